import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FolderLock, LOCK_FILE } from '../../cluster/folder-lock.js';

describe('FolderLock', () => {
  const folders: string[] = [];
  after(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  async function freshFolder(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'signet-folder-lock-'));
    folders.push(folder);
    return folder;
  }

  test('acquire writes pid, release removes', async () => {
    const folder = await freshFolder();
    const lock = await FolderLock.acquire(folder);
    assert.equal(await readFile(join(folder, LOCK_FILE), 'utf8'), `${process.pid}\n`);

    await lock.release();
    assert.equal(existsSync(join(folder, LOCK_FILE)), false);
  });

  test('second acquire while held is rejected', async () => {
    const folder = await freshFolder();
    const lock = await FolderLock.acquire(folder);
    try {
      await assert.rejects(FolderLock.acquire(folder), { code: 'FOLDER_BUSY', pid: process.pid });
    } finally {
      await lock.release();
    }
  });

  // A launcher killed with SIGKILL leaves its lock file behind.
  test('lock of exited process is taken over', async () => {
    const folder = await freshFolder();
    const child = spawn(process.execPath, ['-e', '0']);
    await once(child, 'exit');
    await writeFile(join(folder, LOCK_FILE), `${child.pid}\n`);

    const lock = await FolderLock.acquire(folder);
    assert.equal(await readFile(join(folder, LOCK_FILE), 'utf8'), `${process.pid}\n`);
    await lock.release();
  });

  // After a reboot the recorded pid may belong to an unrelated program.
  test('lock naming a non-Node process is taken over', async () => {
    const folder = await freshFolder();
    const sleeper = spawn('sleep', ['30']);
    try {
      await writeFile(join(folder, LOCK_FILE), `${sleeper.pid}\n`);
      const lock = await FolderLock.acquire(folder);
      assert.equal(await readFile(join(folder, LOCK_FILE), 'utf8'), `${process.pid}\n`);
      await lock.release();
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('lock of live Node process is kept', async () => {
    const folder = await freshFolder();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      await writeFile(join(folder, LOCK_FILE), `${other.pid}\n`);
      await assert.rejects(FolderLock.acquire(folder), { code: 'FOLDER_BUSY', pid: other.pid });
      assert.equal(await readFile(join(folder, LOCK_FILE), 'utf8'), `${other.pid}\n`);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
