import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { type FolderRaftState, recoverDataFolder } from '../../src/server/snapshot/recover-data-folder.js';
import { RecoverError } from '../../src/server/snapshot/recover-error.js';
import {
  archiveOf,
  loadRaftFolder,
  membership,
  namespaceCommand,
  removeDir,
  stateWith,
  tempDir,
  writeRaftFolder,
} from './support.js';

const SELF = 301;
const OTHERS = [101, 201];

/** Runs `action` and returns the RecoverError it throws. */
async function recoverError(action: () => Promise<unknown>): Promise<RecoverError> {
  try {
    await action();
  } catch (err) {
    assert.ok(err instanceof RecoverError, `expected RecoverError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected RecoverError, but the call succeeded');
}

describe('recover checks and dry run', () => {
  let dir: string;
  let dataDir: string;
  let file: string;
  beforeEach(async () => {
    dir = await tempDir('recover-checks');
    dataDir = join(dir, 'data');
    file = join(dir, 'backup.snap');
    await writeFile(file, await archiveOf(stateWith(['web']), 3, membership([77])));
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  test('server folder instead of data_dir is refused', async () => {
    await writeRaftFolder(dataDir, { id: SELF, voters: [SELF], commands: [], term: 2, commit: 2 });
    const serverDir = join(dataDir, 'server');

    for (const snapshotFile of [undefined, file]) {
      const err = await recoverError(() => recoverDataFolder({ dataDir: serverDir, snapshotFile }));
      assert.equal(err.code, 'DATA_DIR_IS_SERVER_FOLDER');
      assert.equal(err.path, serverDir);
    }
    assert.deepEqual((await readdir(serverDir)).sort(), ['node-id', 'raft'], 'no server/ inside server/');
  });

  test('folder of something else is refused', async () => {
    await mkdir(join(dataDir, 'client'), { recursive: true });
    const err = await recoverError(() => recoverDataFolder({ dataDir, snapshotFile: file }));
    assert.equal(err.code, 'DATA_DIR_NOT_SERVER');
    assert.deepEqual(await readdir(dataDir), ['client']);
  });

  test('non-voter needs force', async () => {
    // The stored configuration does not name this server as a voter.
    const before = await writeRaftFolder(dataDir, {
      id: SELF,
      voters: OTHERS,
      commands: [namespaceCommand('web')],
      term: 3,
      commit: 3,
    });

    const err = await recoverError(() => recoverDataFolder({ dataDir }));
    assert.equal(err.code, 'NOT_A_VOTER');
    assert.deepEqual(await loadRaftFolder(dataDir), before, 'nothing was written');

    const forced = await recoverDataFolder({ dataDir, force: true });
    assert.equal(forced.previousRole, 'not a member');
    assert.deepEqual(forced.membership, membership([SELF], OTHERS));
  });

  test('reports log position and entries above commit', async () => {
    const commands = ['a', 'b', 'c', 'd'].map((name) => namespaceCommand(name));
    // Entries 3 to 6 in term 5; the stored commit index is 4, so entries 5 and 6 may not have committed.
    await writeRaftFolder(dataDir, { id: SELF, voters: [SELF, ...OTHERS], commands, term: 5, commit: 4 });
    const seen: FolderRaftState[] = [];

    const result = await recoverDataFolder({ dataDir, beforeWrite: (folder) => seen.push(folder) });

    const expected: FolderRaftState = { lastLog: { index: 6, term: 5 }, commitIndex: 4, term: 5 };
    assert.deepEqual(seen, [expected], 'called once, before the write');
    assert.deepEqual(result.folder, expected);
    assert.equal(result.source.kind === 'log' && result.source.entriesAboveCommit, 2);
    assert.equal(result.written, true);
  });

  test('dry run writes nothing', async () => {
    const before = await writeRaftFolder(dataDir, {
      id: SELF,
      voters: [SELF, ...OTHERS],
      commands: [namespaceCommand('web')],
      term: 4,
      commit: 3,
    });

    const result = await recoverDataFolder({ dataDir, dryRun: true });

    assert.equal(result.written, false);
    assert.equal(result.index, 4);
    assert.equal(result.term, 5);
    assert.equal(result.summary.rows.namespaces, 2);
    assert.deepEqual(await loadRaftFolder(dataDir), before);
  });

  test('dry run restore leaves an empty folder empty', async () => {
    await mkdir(dataDir);

    const result = await recoverDataFolder({ dataDir, snapshotFile: file, dryRun: true });

    assert.equal(result.written, false);
    assert.equal(result.serverId, 0, 'no id is drawn');
    assert.deepEqual(result.folder, { lastLog: { index: 0, term: 0 }, commitIndex: 0, term: 0 });
    assert.deepEqual(await readdir(dataDir), []);
  });
});
