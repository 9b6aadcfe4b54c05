import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SyncRecording } from '../../../cluster/faults/unsynced/sync-recording.js';
import type { ServerHandle } from '../../../cluster/launcher.js';

// A stopped server as the rollback reads it: a name, a state and a data folder.
function stoppedServer(name: string, dataDir: string): ServerHandle {
  return { name, state: 'stopped', dataDir } as unknown as ServerHandle;
}

describe('SyncRecording.forget', () => {
  let root: string;
  let recording: SyncRecording;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-forget-'));
    recording = await SyncRecording.create(root);
  });

  after(async () => {
    await recording.close();
    await rm(root, { recursive: true, force: true });
  });

  test('emptied folder drops old syncs', async () => {
    const dataDir = join(root, 's1', 'data');
    const server = stoppedServer('s1', dataDir);
    await mkdir(join(dataDir, 'raft'), { recursive: true });
    const file = join(recording.root, 's1', 'data', 'raft', 'CURRENT');
    // The old incarnation synced 64 bytes of this file.
    await writeFile(recording.journalPath('s1'), `S\t64\t${file}\n`);

    await recording.forget(server);
    // The rejoined server writes the file again and dies before it syncs it.
    await writeFile(join(dataDir, 'raft', 'CURRENT'), 'x'.repeat(40));

    const summary = await recording.rollBack(server);
    assert.deepEqual(await readdir(join(dataDir, 'raft')), []);
    assert.equal(summary.deletedFiles, 1);
    assert.equal(summary.droppedBytes, 40);
  });

  test('rejects a running server', async () => {
    const server = { name: 's2', state: 'running', dataDir: root } as unknown as ServerHandle;
    await assert.rejects(recording.forget(server), /cannot forget the syncs of s2 while it is running/);
  });
});
