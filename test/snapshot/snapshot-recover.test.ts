import assert from 'node:assert/strict';
import { access, chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { RaftNode } from '../../src/raft/raft.js';
import { LevelStorage } from '../../src/raft/storage/level.js';
import type { DurableState } from '../../src/raft/types.js';
import { serverPaths } from '../../src/server/server-id.js';
import { SnapshotArchiveError } from '../../src/server/snapshot/archive-error.js';
import { recoverDataFolder } from '../../src/server/snapshot/recover-data-folder.js';
import { RecoverError } from '../../src/server/snapshot/recover-error.js';
import { StateStore } from '../../src/state/store.js';
import {
  archiveOf,
  loadRaftFolder,
  membership,
  namespaceCommand,
  namespaceNames,
  removeDir,
  serverCommand,
  stateWith,
  tempDir,
  writeRaftFolder,
} from './support.js';

const SELF = 301;
const OTHERS = [101, 201];

/** Runs `action` and returns the error it throws, checked to be an instance of `type`. */
async function rejection<T extends Error>(
  type: new (...args: never[]) => T,
  action: () => Promise<unknown>,
): Promise<T> {
  try {
    await action();
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${type.name}, but the call succeeded`);
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** Returns the mode of each snapshot file in a Raft folder. */
async function snapshotFileModes(raftDir: string): Promise<number[]> {
  const names = (await readdir(raftDir)).filter((name) => name.endsWith('.snap'));
  return Promise.all(names.map((name) => modeOf(join(raftDir, name))));
}

/** Rebuilds the state a server restores on start: its snapshot, then the entries after it. */
function stateOf(durable: DurableState): StateStore {
  const store = new StateStore();
  if (durable.snapshot !== null) store.restore(durable.snapshot.data);
  for (const entry of durable.entries) {
    if (entry.index <= (durable.snapshot?.meta.index ?? 0)) continue;
    if (entry.kind === 'command') store.apply(entry.index, entry.data);
    else store.advanceTo(entry.index);
  }
  return store;
}

/** Runs a core on `durable` until it settles and returns its status, as the driver would. */
function startCore(id: number, durable: DurableState): ReturnType<RaftNode['status']> {
  const node = new RaftNode({ id, random: () => 0 }, durable);
  for (let tick = 0; tick < 50 && node.status().role !== 'leader'; tick++) {
    node.tick();
    while (node.hasReady()) node.advance(node.ready());
  }
  return node.status();
}

describe('offline recovery of a data folder', () => {
  let dir: string;
  let dataDir: string;
  beforeEach(async () => {
    dir = await tempDir('recover');
    dataDir = join(dir, 'data');
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  test('keeps the log and makes this server the only voter', async () => {
    const commands = [serverCommand(101, 5000), namespaceCommand('web'), namespaceCommand('batch')];
    // The last command is stored but not known to be committed: recovery keeps it too.
    const before = await writeRaftFolder(dataDir, {
      id: SELF,
      voters: [...OTHERS, SELF],
      commands,
      term: 4,
      commit: 4,
    });

    const result = await recoverDataFolder({ dataDir });

    assert.equal(result.serverId, SELF);
    assert.equal(result.index, 6, 'one above the last entry, index 5');
    assert.equal(result.term, 5, 'one above the stored term');
    assert.deepEqual(result.membership, membership([SELF], OTHERS));
    assert.deepEqual(result.previousMembership, membership([...OTHERS, SELF]));
    assert.deepEqual(result.source, {
      kind: 'log',
      snapshotIndex: 0,
      lastIndex: 5,
      entriesApplied: 5,
      entriesAboveCommit: 1,
    });
    assert.equal(result.summary.rows.namespaces, 3);

    const after = await loadRaftFolder(dataDir);
    assert.deepEqual(after.entries, [], 'the old log is gone');
    assert.deepEqual(after.hardState, { term: 5, vote: 0, commit: 6 });
    assert.deepEqual(after.snapshot?.meta, { index: 6, term: 5, membership: membership([SELF], OTHERS) });
    const state = stateOf(after);
    assert.deepEqual(namespaceNames(state), ['batch', 'default', 'web']);
    assert.equal(state.latestIndex, 6);
    assert.deepEqual(namespaceNames(stateOf(before)), namespaceNames(state));
  });

  test('recovered folder elects itself alone', async () => {
    await writeRaftFolder(dataDir, { id: SELF, voters: [...OTHERS, SELF], commands: [], term: 9, commit: 2 });
    await recoverDataFolder({ dataDir });

    const status = startCore(SELF, await loadRaftFolder(dataDir));
    assert.equal(status.role, 'leader');
    assert.equal(status.term, 11, 'the recovery term 10, plus its own election');
    assert.equal(status.lastIndex, 4, 'the no-op of its term after the recovery snapshot at index 3');
    assert.deepEqual(status.membership.voters, [SELF]);
  });

  test('keeps the entries above a stored snapshot', async () => {
    const commands = ['a', 'b', 'c', 'd'].map((name) => namespaceCommand(name));
    await writeRaftFolder(dataDir, {
      id: SELF,
      voters: [SELF, 101],
      commands,
      term: 2,
      commit: 6,
      snapshotAt: 4,
    });

    const result = await recoverDataFolder({ dataDir });
    assert.deepEqual(result.source, {
      kind: 'log',
      snapshotIndex: 4,
      lastIndex: 6,
      entriesApplied: 2,
      entriesAboveCommit: 0,
    });
    assert.equal(result.index, 7);
    assert.deepEqual(namespaceNames(stateOf(await loadRaftFolder(dataDir))), ['a', 'b', 'c', 'd', 'default']);
  });

  test('running server is refused', async () => {
    const before = await writeRaftFolder(dataDir, {
      id: SELF,
      voters: [SELF, 101],
      commands: [namespaceCommand('web')],
      term: 2,
      commit: 3,
    });
    // An open storage holds the LevelDB lock exactly as a running server's does.
    const running = await LevelStorage.open(serverPaths(dataDir).raftDir);
    try {
      const err = await rejection(RecoverError, () => recoverDataFolder({ dataDir }));
      assert.equal(err.code, 'SERVER_RUNNING');
      assert.equal(err.path, dataDir);
    } finally {
      await running.close();
    }
    assert.deepEqual(await loadRaftFolder(dataDir), before);
  });

  test('missing or wrong data folder is refused', async () => {
    const missing = await rejection(RecoverError, () => recoverDataFolder({ dataDir }));
    assert.equal(missing.code, 'DATA_DIR_MISSING');
    assert.equal(missing.path, dataDir);

    await writeFile(dataDir, 'a file');
    const file = await rejection(RecoverError, () => recoverDataFolder({ dataDir }));
    assert.equal(file.code, 'DATA_DIR_INVALID');
  });

  test('folder without Raft state is refused', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty);
    const err = await rejection(RecoverError, () => recoverDataFolder({ dataDir: empty }));
    assert.equal(err.code, 'NO_RAFT_STATE');
    await assert.rejects(access(join(empty, 'server')), { code: 'ENOENT' }, 'nothing was created');
  });

  test('restores a snapshot file into an empty folder', async () => {
    const source = stateWith(['web', 'batch'], [101, 201]);
    const file = join(dir, 'backup.snap');
    await writeFile(file, await archiveOf(source, 7, membership([101, 201], [55])));
    await mkdir(dataDir);

    const result = await recoverDataFolder({ dataDir, snapshotFile: file });

    const id = Number((await readFile(serverPaths(dataDir).idFile, 'utf8')).trim());
    assert.equal(result.serverId, id, 'a new server id was drawn');
    assert.equal(result.index, source.latestIndex + 1);
    assert.equal(result.term, 8);
    assert.deepEqual(result.membership, membership([id], [55, 101, 201]));
    assert.deepEqual(result.source, {
      kind: 'snapshot-file',
      path: file,
      index: source.latestIndex,
      term: 7,
    });
    assert.equal(result.previousMembership, null);

    const after = await loadRaftFolder(dataDir);
    assert.deepEqual(after.hardState, { term: 8, vote: 0, commit: result.index });
    const state = stateOf(after);
    assert.deepEqual(namespaceNames(state), namespaceNames(source));
    assert.deepEqual(state.servers(), source.servers());
    assert.equal(startCore(id, after).role, 'leader');
  });

  test('snapshot file replaces existing state', async () => {
    const commands = Array.from({ length: 20 }, (_, i) => namespaceCommand(`own-${i}`));
    await writeRaftFolder(dataDir, { id: SELF, voters: [SELF, ...OTHERS], commands, term: 12, commit: 22 });
    const source = stateWith(['restored']);
    const file = join(dir, 'backup.snap');
    await writeFile(file, await archiveOf(source, 3, membership([77])));

    const result = await recoverDataFolder({ dataDir, snapshotFile: file });

    assert.equal(result.serverId, SELF, 'the folder keeps its id');
    assert.equal(result.index, 23, 'above the own log, which is longer than the file');
    assert.equal(result.term, 13, 'above the own term, which is higher than the file');
    assert.deepEqual(result.membership, membership([SELF], [77, ...OTHERS]));
    assert.deepEqual(namespaceNames(stateOf(await loadRaftFolder(dataDir))), ['default', 'restored']);
  });

  test('restored state is owner-only', async () => {
    const file = join(dir, 'backup.snap');
    await writeFile(file, await archiveOf(stateWith(['web']), 3, membership([77])));
    const fresh = join(dir, 'fresh');
    await mkdir(fresh);
    // With no umask, anything that relies on the umask for its mode would be world-readable.
    const umask = process.umask(0);
    try {
      await recoverDataFolder({ dataDir: fresh, snapshotFile: file });
    } finally {
      process.umask(umask);
    }

    const { serverDir, raftDir } = serverPaths(fresh);
    assert.equal(await modeOf(serverDir), 0o700);
    assert.equal(await modeOf(raftDir), 0o700);
    assert.deepEqual(await snapshotFileModes(raftDir), [0o600]);
  });

  test('looser Raft folder is narrowed', async () => {
    await writeRaftFolder(dataDir, { id: SELF, voters: [SELF], commands: [], term: 2, commit: 2 });
    const { raftDir } = serverPaths(dataDir);
    await chmod(raftDir, 0o755);
    const file = join(dir, 'backup.snap');
    await writeFile(file, await archiveOf(stateWith(['web']), 3, membership([77])));

    await recoverDataFolder({ dataDir, snapshotFile: file });

    assert.equal(await modeOf(raftDir), 0o700);
    assert.deepEqual(await snapshotFileModes(raftDir), [0o600]);
  });

  test('damaged snapshot file changes nothing', async () => {
    const before = await writeRaftFolder(dataDir, {
      id: SELF,
      voters: [SELF],
      commands: [namespaceCommand('web')],
      term: 2,
      commit: 3,
    });
    const bytes = await archiveOf(stateWith(['other']), 3, membership([77]));
    bytes[bytes.length - 1]! ^= 0xff;
    const file = join(dir, 'damaged.snap');
    await writeFile(file, bytes);

    const err = await rejection(SnapshotArchiveError, () =>
      recoverDataFolder({ dataDir, snapshotFile: file }),
    );
    assert.equal(err.code, 'CHECKSUM_MISMATCH');
    assert.equal(err.source, file);
    assert.deepEqual(await loadRaftFolder(dataDir), before);
  });

  test('entry from a newer release stops recovery', async () => {
    const unknown = new TextEncoder().encode('not a command of this release');
    const before = await writeRaftFolder(dataDir, {
      id: SELF,
      voters: [SELF],
      commands: [namespaceCommand('web'), unknown],
      term: 2,
      commit: 4,
    });
    const err = await rejection(RecoverError, () => recoverDataFolder({ dataDir }));
    assert.equal(err.code, 'UNREADABLE_STATE');
    assert.equal(err.index, 4);
    assert.deepEqual(await loadRaftFolder(dataDir), before);
  });

  test('second recovery moves past the first', async () => {
    await writeRaftFolder(dataDir, { id: SELF, voters: [SELF, 101], commands: [], term: 3, commit: 2 });
    const first = await recoverDataFolder({ dataDir });
    const second = await recoverDataFolder({ dataDir });
    assert.equal(second.index, first.index + 1);
    assert.equal(second.term, first.term + 1);
    assert.deepEqual(second.membership, first.membership);
  });
});
