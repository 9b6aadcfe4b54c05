import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AllocDir, AllocDirError } from '../../src/client/alloc-dir.js';
import { makeDataDir, removeDataDir } from './driver-support.js';

const ALLOC = '0b6a7c3e-1111-4222-8333-944445555666';

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

describe('AllocDir', () => {
  let dataDir: string;

  before(async () => {
    dataDir = await makeDataDir();
  });
  after(async () => {
    await removeDataDir(dataDir);
  });

  test('layout follows Nomad', async () => {
    const allocDir = new AllocDir(dataDir, ALLOC);
    const paths = await allocDir.buildTaskDir('web');
    const root = join(dataDir, 'alloc', ALLOC);

    assert.equal(allocDir.dir, root);
    assert.equal(paths.sharedDir, join(root, 'alloc'));
    assert.equal(paths.logDir, join(root, 'alloc', 'logs'));
    assert.equal(paths.dir, join(root, 'web'));
    assert.equal(paths.localDir, join(root, 'web', 'local'));
    assert.equal(paths.secretsDir, join(root, 'web', 'secrets'));
    assert.equal(paths.tmpDir, join(root, 'web', 'tmp'));
    for (const sub of ['alloc/data', 'alloc/logs', 'alloc/tmp', 'web/local', 'web/secrets', 'web/tmp']) {
      assert.ok((await stat(join(root, sub))).isDirectory(), `${sub} should be a folder`);
    }
  });

  test('modes: secrets owner-only, tmp sticky', async () => {
    const paths = await new AllocDir(dataDir, ALLOC).buildTaskDir('modes');
    assert.equal(await modeOf(paths.secretsDir), 0o700);
    assert.equal(await modeOf(paths.tmpDir), 0o1777);
    assert.equal(await modeOf(join(paths.sharedDir, 'tmp')), 0o1777);
    assert.equal(await modeOf(paths.localDir), 0o755);
    assert.equal(await modeOf(paths.dir), 0o755);
  });

  test('rebuild keeps files and restores modes', async () => {
    const allocDir = new AllocDir(dataDir, ALLOC);
    const paths = await allocDir.buildTaskDir('again');
    await writeFile(join(paths.localDir, 'kept'), 'x');
    await chmod(paths.secretsDir, 0o755);

    await allocDir.buildTaskDir('again');
    assert.ok((await stat(join(paths.localDir, 'kept'))).isFile());
    assert.equal(await modeOf(paths.secretsDir), 0o700);
  });

  test('secrets symlink planted by a task is rejected', async () => {
    const allocDir = new AllocDir(dataDir, ALLOC);
    const paths = allocDir.taskDir('planted');
    await mkdir(paths.dir, { recursive: true });
    const outside = join(dataDir, 'outside');
    await mkdir(outside);
    await symlink(outside, paths.secretsDir);
    const outsideMode = await modeOf(outside);

    await assert.rejects(allocDir.buildTaskDir('planted'), (err: unknown) => {
      return err instanceof AllocDirError && err.path === paths.secretsDir;
    });
    assert.equal(await modeOf(outside), outsideMode);
    assert.ok((await lstat(paths.secretsDir)).isSymbolicLink());
  });

  test('invalid names are rejected', () => {
    assert.throws(() => new AllocDir(dataDir, '../escape'), AllocDirError);
    assert.throws(() => new AllocDir(dataDir, ''), AllocDirError);
    const allocDir = new AllocDir(dataDir, ALLOC);
    for (const name of ['..', '.', 'a/b', 'alloc', '']) {
      assert.throws(() => allocDir.taskDir(name), AllocDirError, `task name ${JSON.stringify(name)}`);
    }
  });

  test('destroy removes the allocation folder', async () => {
    const allocDir = new AllocDir(dataDir, 'to-destroy');
    await allocDir.buildTaskDir('web');
    await allocDir.destroy();
    await assert.rejects(stat(allocDir.dir), { code: 'ENOENT' });
  });
});
