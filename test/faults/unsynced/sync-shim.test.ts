import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { shimBuildProblem } from '../../../cluster/faults/unsynced/build-shim.js';
import { makeShimFolder, runToEnd, type ShimFolder, shimEnv } from './shim-fixture.js';

const AT_CALLS_SOURCE = fileURLToPath(new URL('./fixtures/at-calls.c', import.meta.url));
const problem = await shimBuildProblem();

/** File calls through Node's fs, with relative paths, a folder rename and a file outside the root. */
const NODE_CALLS = `
const fs = require('node:fs');
const [root, outside] = process.argv.slice(1);
process.chdir(root);
let fd = fs.openSync('sub/a', 'w');
fs.writeSync(fd, 'hello');
fs.fsyncSync(fd);
fs.writeSync(fd, ' world');
fs.closeSync(fd);
fs.renameSync('sub', 'moved');
fs.writeFileSync('moved/b', 'xyz', { flush: true });
fs.unlinkSync('moved/a');
fd = fs.openSync('.', 'r');
fs.fsyncSync(fd);
fs.closeSync(fd);
fs.writeFileSync(outside, 'not recorded', { flush: true });
fs.renameSync(outside, outside + '.2');
`;

describe('sync shim', { skip: problem ?? false }, () => {
  let shim: ShimFolder;
  before(async () => {
    shim = await makeShimFolder();
  });
  after(async () => {
    await shim.remove();
  });

  test('records node fs calls', async () => {
    const root = join(shim.folder, 'node-root');
    await mkdir(join(root, 'sub'), { recursive: true });
    // The root and the working folder are given through a symbolic link; the journal has real paths.
    const link = join(shim.folder, 'node-link');
    await symlink(root, link);
    const env = { ...shimEnv(shim, link), SIGNET_SYNC_JOURNAL: join(shim.folder, 'node.journal') };

    const result = await runToEnd(
      process.execPath,
      ['-e', NODE_CALLS, link, join(shim.folder, 'outside')],
      env,
    );

    assert.equal(result.code, 0, result.stderr);
    const journal = await readFile(join(shim.folder, 'node.journal'), 'utf8');
    assert.equal(
      journal,
      [
        `S\t5\t${root}/sub/a`,
        `R\t${root}/sub\t${root}/moved`,
        `S\t3\t${root}/moved/b`,
        `U\t${root}/moved/a`,
        '',
      ].join('\n'),
    );
  });

  test('records calls relative to a folder', async () => {
    const program = join(shim.folder, 'at-calls');
    await promisify(execFile)('gcc', ['-O2', '-Wall', '-o', program, AT_CALLS_SOURCE]);
    const root = join(shim.folder, 'at-root');
    await mkdir(join(root, 'sub'), { recursive: true });
    const env = { ...shimEnv(shim, root), SIGNET_SYNC_JOURNAL: join(shim.folder, 'at.journal') };

    const result = await runToEnd(program, [root], env);

    assert.equal(result.code, 0, `at-calls failed at step ${result.code}: ${result.stderr}`);
    const journal = await readFile(join(shim.folder, 'at.journal'), 'utf8');
    assert.equal(
      journal,
      [
        `S\t4\t${root}/sub/a`,
        `R\t${root}/sub/a\t${root}/b`,
        `S\t2\t${root}/c`,
        `X\t${root}/b\t${root}/c`,
        `U\t${root}/c`,
        '',
      ].join('\n'),
    );
  });

  test('ends the process when the journal cannot open', async () => {
    const env = {
      ...shimEnv(shim, shim.folder),
      SIGNET_SYNC_JOURNAL: join(shim.folder, 'missing', 'journal'),
    };
    const result = await runToEnd(process.execPath, ['-e', ''], env);
    assert.equal(result.code, 70);
    assert.match(
      result.stderr,
      /cannot open SIGNET_SYNC_JOURNAL .*missing\/journal: No such file or directory/,
    );
  });

  test('records nothing without a root', async () => {
    const env = {
      ...shimEnv(shim),
      SIGNET_SYNC_ROOT: undefined,
      SIGNET_SYNC_JOURNAL: join(shim.folder, 'none'),
    };
    const result = await runToEnd(
      process.execPath,
      [
        '-e',
        "require('node:fs').writeFileSync(process.argv[1], 'x', { flush: true })",
        join(shim.folder, 'file'),
      ],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    await assert.rejects(readFile(join(shim.folder, 'none')), { code: 'ENOENT' });
  });
});
