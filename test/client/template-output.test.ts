import assert from 'node:assert/strict';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseTemplateEnv, TemplateEnvError } from '../../src/client/template-env.js';
import {
  readTemplateFile,
  resolveTemplateTarget,
  TemplateDestinationError,
  writeTemplateFile,
} from '../../src/client/template-file.js';

describe('resolveTemplateTarget', () => {
  const taskDir = '/data/alloc/A/web';

  test('inside paths resolve under the task folder', () => {
    const cases: [string, string, number][] = [
      ['local/app.conf', 'local/app.conf', 0o644],
      ['/local/app.conf', 'local/app.conf', 0o644],
      ['local/../secrets/db.env', 'secrets/db.env', 0o600],
      ['secrets/nested/key.pem', 'secrets/nested/key.pem', 0o600],
      ['app.conf', 'app.conf', 0o644],
      ['secretsfile', 'secretsfile', 0o644],
    ];
    for (const [destination, relativePath, mode] of cases) {
      const target = resolveTemplateTarget(taskDir, destination);
      assert.equal(target.relativePath, relativePath, destination);
      assert.equal(target.path, join(taskDir, relativePath), destination);
      assert.equal(target.mode, mode, destination);
    }
  });

  test('escaping paths are rejected', () => {
    for (const destination of [
      '../alloc/data/x',
      '../../etc/passwd',
      'local/../../x',
      '',
      '.',
      '/',
      'local/',
      'a\0b',
    ]) {
      assert.throws(
        () => resolveTemplateTarget(taskDir, destination),
        (err: unknown) => err instanceof TemplateDestinationError && err.destination === destination,
        JSON.stringify(destination),
      );
    }
  });
});

describe('writeTemplateFile', () => {
  let root = '';
  let taskDir = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-template-file-'));
    taskDir = join(root, 'task');
    await mkdir(join(taskDir, 'local'), { recursive: true });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('creates folders and sets the mode', async () => {
    const target = resolveTemplateTarget(taskDir, 'local/conf/app.conf');
    await writeTemplateFile(taskDir, target, 'one');
    assert.equal(await readFile(target.path, 'utf8'), 'one');
    assert.equal((await stat(target.path)).mode & 0o777, 0o644);
    assert.equal(await readTemplateFile(target), 'one');

    await writeTemplateFile(taskDir, target, 'two');
    assert.equal(await readFile(target.path, 'utf8'), 'two');
  });

  test('symlink at the target is replaced', async () => {
    const outside = join(root, 'outside.txt');
    await writeFile(outside, 'keep');
    const target = resolveTemplateTarget(taskDir, 'local/link.txt');
    await symlink(outside, target.path);
    assert.equal(await readTemplateFile(target), null);

    await writeTemplateFile(taskDir, target, 'rendered');
    assert.equal((await lstat(target.path)).isSymbolicLink(), false);
    assert.equal(await readFile(target.path, 'utf8'), 'rendered');
    assert.equal(await readFile(outside, 'utf8'), 'keep');
  });

  test('symlinked folder on the way is rejected', async () => {
    const elsewhere = join(root, 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, join(taskDir, 'linked'));
    const target = resolveTemplateTarget(taskDir, 'linked/app.conf');
    await assert.rejects(
      writeTemplateFile(taskDir, target, 'x'),
      (err: unknown) => err instanceof TemplateDestinationError && err.destination === 'linked/app.conf',
    );
    await assert.rejects(stat(join(elsewhere, 'app.conf')), { code: 'ENOENT' });
  });
});

describe('parseTemplateEnv', () => {
  test('reads dotenv lines', () => {
    const text = [
      '# comment',
      '',
      'PLAIN=value',
      '  SPACED = padded value   ',
      'export EXPORTED=yes',
      'COMMENTED=kept # dropped',
      'DOUBLE="a\\tb\\nc \\"q\\" \\\\"',
      "SINGLE='no \\n escape # kept'",
      'MIXED=un"quoted "\'single\'',
      'EMPTY=',
      'PLAIN=override',
    ].join('\n');
    assert.deepEqual(parseTemplateEnv(text), {
      PLAIN: 'override',
      SPACED: 'padded value',
      EXPORTED: 'yes',
      COMMENTED: 'kept',
      DOUBLE: 'a\tb\nc "q" \\',
      SINGLE: 'no \\n escape # kept',
      MIXED: 'unquoted single',
      EMPTY: '',
    });
  });

  test('invalid lines name the line, not the value', () => {
    const cases: [string, number][] = [
      ['GOOD=1\nno separator', 2],
      ['1BAD=x', 1],
      ['BAD-NAME=x', 1],
      ['OPEN="secret-value', 1],
      ["OPEN='secret-value", 1],
      ['ESCAPE="\\x"', 1],
      ['A=1\nB=2\nTAB=a\tb', 3],
    ];
    for (const [text, line] of cases) {
      assert.throws(
        () => parseTemplateEnv(text),
        (err: unknown) => {
          assert.ok(err instanceof TemplateEnvError, JSON.stringify(text));
          assert.equal(err.line, line, JSON.stringify(text));
          assert.equal(err.message.includes('secret-value'), false);
          return true;
        },
      );
    }
  });
});
