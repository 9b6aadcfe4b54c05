import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  rmdir,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import type { BatchRule } from '../../src/raft/storage/batch-plan.js';
import {
  ENTRY_KEY_RANGE,
  encodeEntry,
  encodeHardState,
  encodeSnapshotRecord,
  entryKey,
  entryKeyIndex,
  frameValue,
  HARD_STATE_KEY,
  SNAPSHOT_KEY,
} from '../../src/raft/storage/codec.js';
import { MARKER_FILE } from '../../src/raft/storage/data-folder.js';
import { LEVELDB_FOLDER, LevelStorage } from '../../src/raft/storage/level.js';
import { MemoryStorage } from '../../src/raft/storage/memory.js';
import { snapshotFileName, tempFileName } from '../../src/raft/storage/snapshot-file.js';
import { StorageError, type StorageErrorCode } from '../../src/raft/storage/storage.js';
import type {
  CommandEntry,
  DurableState,
  Entry,
  HardState,
  PersistBatch,
  Snapshot,
} from '../../src/raft/types.js';
import { BatchGenerator, EMPTY_BATCH } from './fixtures/batch-generator.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OPEN_FIXTURE = fileURLToPath(new URL('./fixtures/storage-open.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 30_000;

// Builders for the tables below.

function command(index: number, term: number, text = `command ${index}`): Entry {
  return { index, term, kind: 'command', data: new TextEncoder().encode(text) };
}

function commands(from: number, to: number, term: number): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= to; index++) entries.push(command(index, term));
  return entries;
}

function snapshot(index: number, term: number, text = `state at ${index}`): Snapshot {
  return {
    meta: { index, term, membership: { voters: [1, 2, 3], learners: [4], removed: [] } },
    data: new TextEncoder().encode(text),
  };
}

function batch(fields: Partial<PersistBatch>): PersistBatch {
  return { ...EMPTY_BATCH, ...fields };
}

function hard(term: number, vote: number, commit: number): HardState {
  return { term, vote, commit };
}

/** What a table case expects: the hard state, the snapshot index and `index:term` of each entry. */
interface Summary {
  readonly hardState: HardState;
  readonly snapshotIndex: number | null;
  readonly log: string;
}

function summarize(state: DurableState): Summary {
  return {
    hardState: state.hardState,
    snapshotIndex: state.snapshot?.meta.index ?? null,
    log: state.entries.map((entry) => `${entry.index}:${entry.term}`).join(' '),
  };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-storage-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function openLevel(t: TestContext): Promise<{ dir: string; storage: LevelStorage }> {
  const dir = await tempDir(t);
  const storage = await LevelStorage.open(dir);
  t.after(() => storage.close());
  return { dir, storage };
}

async function rejectsWithCode(
  promise: Promise<unknown>,
  code: StorageErrorCode,
  fields: Partial<Pick<StorageError, 'path' | 'key' | 'expectedIndex' | 'foundIndex'>> = {},
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof StorageError, `expected a StorageError, got ${String(err)}`);
    assert.equal(err.code, code);
    for (const [name, value] of Object.entries(fields)) {
      assert.equal(err[name as keyof typeof fields], value, `StorageError.${name}`);
    }
    return true;
  });
}

/** Checks that an invalid batch fails as a caller bug: a plain Error whose cause names the rule. */
function checkInvalidBatchError(err: unknown, rule: BatchRule): true {
  assert.ok(err instanceof Error, `expected an Error, got ${String(err)}`);
  assert.ok(!(err instanceof StorageError), 'an invalid batch must not be reported as a StorageError');
  assert.deepEqual(err.cause, { rule });
  return true;
}

// The same sequences of batches, applied to MemoryStorage and LevelStorage.

interface ValidCase {
  readonly name: string;
  readonly steps: readonly PersistBatch[];
  readonly expected: Summary;
}

const VALID_CASES: readonly ValidCase[] = [
  {
    name: 'appends with hard state',
    steps: [
      batch({ entries: commands(1, 3, 1), hardState: hard(1, 0, 0) }),
      batch({ entries: commands(4, 5, 1), hardState: hard(1, 2, 3) }),
    ],
    expected: { hardState: hard(1, 2, 3), snapshotIndex: null, log: '1:1 2:1 3:1 4:1 5:1' },
  },
  {
    name: 'truncation overwrites the tail',
    steps: [
      batch({ entries: commands(1, 5, 1), hardState: hard(1, 1, 2) }),
      batch({ truncateFrom: 3, entries: commands(3, 4, 2), hardState: hard(2, 0, 2) }),
    ],
    expected: { hardState: hard(2, 0, 2), snapshotIndex: null, log: '1:1 2:1 3:2 4:2' },
  },
  {
    name: 'truncation without new entries',
    steps: [
      batch({ entries: commands(1, 5, 1), hardState: hard(1, 1, 1) }),
      batch({ truncateFrom: 4, hardState: hard(2, 0, 1) }),
    ],
    expected: { hardState: hard(2, 0, 1), snapshotIndex: null, log: '1:1 2:1 3:1' },
  },
  {
    name: 'truncation with a longer tail',
    steps: [
      batch({ entries: commands(1, 5, 1), hardState: hard(1, 0, 0) }),
      batch({ truncateFrom: 2, entries: commands(2, 8, 3), hardState: hard(3, 0, 0) }),
    ],
    expected: { hardState: hard(3, 0, 0), snapshotIndex: null, log: '1:1 2:3 3:3 4:3 5:3 6:3 7:3 8:3' },
  },
  {
    name: 'local snapshot compacts a prefix',
    steps: [
      batch({ entries: commands(1, 10, 1), hardState: hard(1, 1, 8) }),
      batch({ snapshot: snapshot(6, 1), compactTo: 6 }),
    ],
    expected: { hardState: hard(1, 1, 8), snapshotIndex: 6, log: '7:1 8:1 9:1 10:1' },
  },
  {
    name: 'snapshot past the log replaces it',
    steps: [
      batch({ entries: commands(1, 3, 1), hardState: hard(1, 0, 1) }),
      batch({
        snapshot: snapshot(10, 2),
        compactTo: 10,
        entries: commands(11, 12, 2),
        hardState: hard(2, 0, 10),
      }),
    ],
    expected: { hardState: hard(2, 0, 10), snapshotIndex: 10, log: '11:2 12:2' },
  },
  {
    name: 'newer snapshot replaces the older',
    steps: [
      batch({ entries: commands(1, 10, 1), hardState: hard(1, 0, 10) }),
      batch({ snapshot: snapshot(4, 1), compactTo: 4 }),
      batch({ snapshot: snapshot(9, 1), compactTo: 9 }),
    ],
    expected: { hardState: hard(1, 0, 10), snapshotIndex: 9, log: '10:1' },
  },
  {
    name: 'snapshot in the log drops a conflicting tail',
    steps: [
      batch({ entries: commands(1, 10, 1), hardState: hard(1, 0, 5) }),
      batch({
        snapshot: snapshot(7, 2),
        compactTo: 7,
        truncateFrom: 8,
        entries: commands(8, 9, 2),
        hardState: hard(2, 0, 7),
      }),
    ],
    expected: { hardState: hard(2, 0, 7), snapshotIndex: 7, log: '8:2 9:2' },
  },
  {
    name: 'vote within a term, then a new term',
    steps: [
      batch({ hardState: hard(2, 0, 0) }),
      batch({ hardState: hard(2, 3, 0) }),
      batch({ hardState: hard(3, 0, 0) }),
    ],
    expected: { hardState: hard(3, 0, 0), snapshotIndex: null, log: '' },
  },
  {
    name: 'empty batches change nothing',
    steps: [
      batch({ entries: commands(1, 2, 1), hardState: hard(1, 0, 0) }),
      EMPTY_BATCH,
      batch({ truncateFrom: 3 }),
      batch({ compactTo: 0 }),
    ],
    expected: { hardState: hard(1, 0, 0), snapshotIndex: null, log: '1:1 2:1' },
  },
  {
    name: 'every entry kind',
    steps: [
      batch({
        entries: [
          { index: 1, term: 1, kind: 'noop' },
          { index: 2, term: 1, kind: 'command', data: new Uint8Array(0) },
          { index: 3, term: 1, kind: 'command', data: Uint8Array.from({ length: 256 }, (_, i) => i) },
          { index: 4, term: 2, kind: 'config', membership: { voters: [1, 2], learners: [3], removed: [9] } },
        ],
        hardState: hard(2, 1, 0),
      }),
    ],
    expected: { hardState: hard(2, 1, 0), snapshotIndex: null, log: '1:1 2:1 3:1 4:2' },
  },
  {
    name: 'compaction below the snapshot is a no-op',
    steps: [
      batch({ entries: commands(1, 5, 1), hardState: hard(1, 0, 5) }),
      batch({ snapshot: snapshot(3, 1), compactTo: 3 }),
      batch({ compactTo: 2, entries: commands(6, 6, 1) }),
    ],
    expected: { hardState: hard(1, 0, 5), snapshotIndex: 3, log: '4:1 5:1 6:1' },
  },
  {
    name: 'snapshot keeps trailing entries',
    steps: [
      batch({ entries: commands(1, 10, 1), hardState: hard(1, 0, 9) }),
      batch({ snapshot: snapshot(6, 1), compactTo: 3 }),
      batch({ snapshot: snapshot(9, 1), compactTo: 7 }),
      batch({ truncateFrom: 10, entries: commands(10, 11, 2), hardState: hard(2, 0, 9) }),
    ],
    expected: { hardState: hard(2, 0, 9), snapshotIndex: 9, log: '8:1 9:1 10:2 11:2' },
  },
  {
    name: 'snapshot without compaction',
    steps: [
      batch({ entries: commands(1, 5, 1), hardState: hard(1, 0, 5) }),
      batch({ snapshot: snapshot(5, 1) }),
      batch({ entries: commands(6, 7, 1) }),
    ],
    expected: { hardState: hard(1, 0, 5), snapshotIndex: 5, log: '1:1 2:1 3:1 4:1 5:1 6:1 7:1' },
  },
  {
    name: 'snapshot past the log keeps nothing',
    steps: [
      batch({ entries: commands(1, 6, 1), hardState: hard(1, 0, 4) }),
      batch({ snapshot: snapshot(3, 1), compactTo: 1 }),
      batch({ snapshot: snapshot(20, 3), compactTo: 20, truncateFrom: 21, hardState: hard(3, 0, 20) }),
    ],
    expected: { hardState: hard(3, 0, 20), snapshotIndex: 20, log: '' },
  },
  {
    name: 'empty snapshot data',
    steps: [
      batch({ entries: commands(1, 2, 1), hardState: hard(1, 0, 2) }),
      batch({ snapshot: snapshot(2, 1, ''), compactTo: 2 }),
    ],
    expected: { hardState: hard(1, 0, 2), snapshotIndex: 2, log: '' },
  },
];

describe('storage batch table', () => {
  for (const testCase of VALID_CASES) {
    test(testCase.name, async (t) => {
      const memory = new MemoryStorage();
      const dir = await tempDir(t);
      let level = await LevelStorage.open(dir);
      t.after(() => level.close());

      for (const [i, step] of testCase.steps.entries()) {
        memory.saveSync(step);
        await level.save(step);
        assert.deepEqual(await level.load(), memory.loadSync(), `states differ after step ${i}`);
      }
      assert.deepEqual(summarize(memory.loadSync()), testCase.expected);

      await level.close();
      level = await LevelStorage.open(dir);
      assert.deepEqual(await level.load(), memory.loadSync(), 'state differs after reopening');
      const snapshots = (await readdir(dir)).filter((name) => name.startsWith('snapshot-'));
      const expectedSnapshot = testCase.expected.snapshotIndex;
      assert.deepEqual(snapshots, expectedSnapshot === null ? [] : [snapshotFileName(expectedSnapshot)]);
    });
  }
});

interface InvalidCase {
  readonly name: string;
  readonly batch: PersistBatch;
  readonly rule: BatchRule;
}

/** Start state of the invalid cases: snapshot at 2, entries 3..5 of term 1, term 2, vote 4, commit 3. */
const INVALID_SETUP: readonly PersistBatch[] = [
  batch({ entries: commands(1, 5, 1), hardState: hard(2, 4, 3) }),
  batch({ snapshot: snapshot(2, 1), compactTo: 2 }),
];

const INVALID_CASES: readonly InvalidCase[] = [
  {
    name: 'entries with a hole',
    batch: batch({ entries: [command(6, 2), command(8, 2)] }),
    rule: 'entries-not-contiguous',
  },
  { name: 'entries after a gap', batch: batch({ entries: [command(7, 2)] }), rule: 'entries-not-following' },
  {
    name: 'overwrite without truncateFrom',
    batch: batch({ entries: [command(5, 2)] }),
    rule: 'entries-not-following',
  },
  {
    name: 'entries not at truncateFrom',
    batch: batch({ truncateFrom: 4, entries: [command(5, 2)] }),
    rule: 'entries-not-following',
  },
  { name: 'truncation at the snapshot', batch: batch({ truncateFrom: 2 }), rule: 'truncate-at-snapshot' },
  { name: 'truncation of committed entries', batch: batch({ truncateFrom: 3 }), rule: 'truncate-committed' },
  { name: 'truncation past the log', batch: batch({ truncateFrom: 7 }), rule: 'truncate-beyond-log' },
  { name: 'term going back', batch: batch({ hardState: hard(1, 0, 3) }), rule: 'term-decreasing' },
  { name: 'vote changed in a term', batch: batch({ hardState: hard(2, 5, 3) }), rule: 'vote-changed' },
  { name: 'vote cleared in a term', batch: batch({ hardState: hard(2, 0, 3) }), rule: 'vote-changed' },
  { name: 'commit going back', batch: batch({ hardState: hard(2, 4, 2) }), rule: 'commit-decreasing' },
  { name: 'commit past the log', batch: batch({ hardState: hard(2, 4, 6) }), rule: 'commit-beyond-log' },
  { name: 'compaction past the snapshot', batch: batch({ compactTo: 4 }), rule: 'compact-beyond-snapshot' },
  {
    name: 'snapshot not newer',
    batch: batch({ snapshot: snapshot(2, 1), compactTo: 2 }),
    rule: 'snapshot-not-newer',
  },
  {
    name: 'snapshot past the log without compaction',
    batch: batch({ snapshot: snapshot(8, 2) }),
    rule: 'log-behind-snapshot',
  },
  {
    name: 'snapshot past the log with short compaction',
    batch: batch({ snapshot: snapshot(8, 2), compactTo: 4 }),
    rule: 'log-behind-snapshot',
  },
  {
    name: 'snapshot at index 0',
    batch: batch({ snapshot: snapshot(0, 1), compactTo: 0 }),
    rule: 'snapshot-invalid',
  },
  {
    name: 'entry terms going back',
    batch: batch({ entries: [command(6, 2), command(7, 1)] }),
    rule: 'entry-term-decreasing',
  },
  { name: 'entry of term 0', batch: batch({ entries: [command(6, 0)] }), rule: 'entry-invalid' },
  {
    name: 'entry of unknown kind',
    batch: batch({ entries: [{ index: 6, term: 2, kind: 'bogus' } as unknown as Entry] }),
    rule: 'entry-invalid',
  },
  {
    name: 'fractional hard state term',
    batch: batch({ hardState: hard(2.5, 0, 3) }),
    rule: 'hard-state-invalid',
  },
];

describe('storage rejects invalid batches', () => {
  for (const testCase of INVALID_CASES) {
    test(testCase.name, async (t) => {
      const memory = new MemoryStorage();
      const { dir, storage: level } = await openLevel(t);
      for (const step of INVALID_SETUP) {
        memory.saveSync(step);
        await level.save(step);
      }
      const before = memory.loadSync();
      const filesBefore = await readdir(dir);

      assert.throws(
        () => memory.saveSync(testCase.batch),
        (err) => checkInvalidBatchError(err, testCase.rule),
      );
      await assert.rejects(level.save(testCase.batch), (err) => checkInvalidBatchError(err, testCase.rule));

      assert.deepEqual(memory.loadSync(), before, 'memory storage changed');
      assert.deepEqual(await level.load(), before, 'level storage changed');
      assert.deepEqual(await readdir(dir), filesBefore, 'files in the data folder changed');

      // A rejected batch is the caller's bug, not a storage failure, so later saves still work.
      const next = batch({ entries: [command(6, 2)], hardState: hard(2, 4, 4) });
      memory.saveSync(next);
      await level.save(next);
      assert.deepEqual(await level.load(), memory.loadSync());
    });
  }
});

describe('storage random sequences', () => {
  test('memory and level agree', async (t) => {
    const dir = await tempDir(t);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const start: DurableState = { hardState: hard(0, 0, 0), snapshot: null, entries: [] };
        const generator = new BatchGenerator(start, seed, {
          maxAppend: 8,
          maxCommandBytes: 64,
          maxLargeSnapshotBytes: 0,
        });
        const memory = new MemoryStorage();
        const levelDir = join(dir, `run-${run++}`);
        let level = await LevelStorage.open(levelDir);
        try {
          for (let i = 0; i < 120; i++) {
            const step = generator.next();
            memory.saveSync(step);
            await level.save(step);
            if (i % 40 === 39) assert.deepEqual(await level.load(), memory.loadSync(), `after batch ${i}`);
          }
          await level.close();
          level = await LevelStorage.open(levelDir);
          assert.deepEqual(await level.load(), memory.loadSync(), 'after reopening');
          assert.deepEqual(memory.loadSync(), generator.state());
        } finally {
          await level.close();
        }
      }),
      { numRuns: 12 },
    );
  });
});

describe('LevelStorage', () => {
  test('large compaction in one batch', async (t) => {
    const { dir, storage } = await openLevel(t);
    const memory = new MemoryStorage();
    const steps: PersistBatch[] = [];
    for (let from = 1; from <= 20_000; from += 1000) {
      steps.push(batch({ entries: commands(from, from + 999, 1), hardState: hard(1, 0, from + 999) }));
    }
    steps.push(batch({ snapshot: snapshot(19_990, 1), compactTo: 19_990 }));
    for (const step of steps) {
      memory.saveSync(step);
      await storage.save(step);
    }
    await storage.close();

    const reopened = await LevelStorage.open(dir);
    t.after(() => reopened.close());
    const state = await reopened.load();
    assert.deepEqual(state, memory.loadSync());
    assert.equal(
      summarize(state).log,
      '19991:1 19992:1 19993:1 19994:1 19995:1 19996:1 19997:1 19998:1 19999:1 20000:1',
    );
  });

  test('trailing entries stay until compacted', async (t) => {
    const dir = await tempDir(t);
    const storedIndexes = async () => {
      const indexes: number[] = [];
      await editDatabase(dir, async (db) => {
        for await (const key of db.keys(ENTRY_KEY_RANGE)) indexes.push(entryKeyIndex(key)!);
      });
      return indexes;
    };

    let storage = await LevelStorage.open(dir);
    await storage.save(batch({ entries: commands(1, 10, 1), hardState: hard(1, 0, 9) }));
    await storage.save(batch({ snapshot: snapshot(6, 1), compactTo: 3 }));
    await storage.close();
    assert.deepEqual(await storedIndexes(), [4, 5, 6, 7, 8, 9, 10]);

    storage = await LevelStorage.open(dir);
    // Entries kept below the snapshot come back too, so a restarted leader can still send them.
    assert.deepEqual(summarize(await storage.load()).log, '4:1 5:1 6:1 7:1 8:1 9:1 10:1');
    await storage.save(batch({ snapshot: snapshot(9, 1), compactTo: 8 }));
    await storage.close();
    assert.deepEqual(await storedIndexes(), [9, 10]);
  });

  test('saves queued without waiting run in order', async (t) => {
    const { storage } = await openLevel(t);
    const first = storage.save(batch({ entries: commands(1, 3, 1), hardState: hard(1, 0, 0) }));
    const invalid = storage.save(batch({ entries: [command(9, 1)] }));
    const third = storage.save(batch({ entries: commands(4, 4, 1), hardState: hard(1, 0, 4) }));
    await first;
    await assert.rejects(invalid, (err) => checkInvalidBatchError(err, 'entries-not-following'));
    await third;
    assert.deepEqual(summarize(await storage.load()), {
      hardState: hard(1, 0, 4),
      snapshotIndex: null,
      log: '1:1 2:1 3:1 4:1',
    });
  });

  test('closed storage rejects calls', async (t) => {
    const dir = await tempDir(t);
    const storage = await LevelStorage.open(dir);
    await storage.close();
    await storage.close();
    await rejectsWithCode(storage.save(batch({ hardState: hard(1, 0, 0) })), 'STORAGE_CLOSED', { path: dir });
    await rejectsWithCode(storage.load(), 'STORAGE_CLOSED', { path: dir });
  });

  test('folders and snapshot files are owner-only', async (t) => {
    const dir = join(await tempDir(t), 'server', 'raft');
    // With no umask, anything that relies on the umask for its mode would be world-readable.
    const umask = process.umask(0);
    try {
      const storage = await LevelStorage.open(dir);
      t.after(() => storage.close());
      await storage.save(batch({ snapshot: snapshot(5, 2), hardState: hard(2, 0, 5) }));
    } finally {
      process.umask(umask);
    }
    assert.equal((await stat(dirname(dir))).mode & 0o777, 0o700);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, snapshotFileName(5)))).mode & 0o777, 0o600);
  });

  test('looser folder is narrowed on open', async (t) => {
    const dir = await tempDir(t);
    await chmod(dir, 0o755);
    const storage = await LevelStorage.open(dir);
    t.after(() => storage.close());
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  test('second open in the same process is locked', async (t) => {
    const { dir } = await openLevel(t);
    await rejectsWithCode(LevelStorage.open(dir), 'STORAGE_LOCKED', { path: join(dir, LEVELDB_FOLDER) });
  });

  test('second process gets STORAGE_LOCKED', async (t) => {
    const dir = await tempDir(t);
    const storage = await LevelStorage.open(dir);
    const openFromChild = async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', OPEN_FIXTURE, dir], {
        cwd: REPO_ROOT,
        timeout: CHILD_TIMEOUT_MS,
      });
      return JSON.parse(stdout) as unknown;
    };
    try {
      assert.deepEqual(await openFromChild(), { code: 'STORAGE_LOCKED' });
    } finally {
      await storage.close();
    }
    assert.deepEqual(await openFromChild(), { opened: true });
  });

  test('failed write stops later saves', async (t) => {
    const dir = await tempDir(t);
    await seedStorage(dir);
    const storage = await LevelStorage.open(dir);
    const before = await storage.load();
    // A folder where the temporary snapshot file should go makes the snapshot write fail.
    const obstacle = join(dir, tempFileName(snapshotFileName(4)));
    await mkdir(obstacle);

    await rejectsWithCode(storage.save(batch({ snapshot: snapshot(4, 1), compactTo: 4 })), 'STORAGE_IO', {
      path: dir,
    });
    await rejectsWithCode(storage.save(batch({ hardState: hard(3, 0, 3) })), 'STORAGE_IO', { path: dir });
    await storage.close();

    await rmdir(obstacle);
    const reopened = await LevelStorage.open(dir);
    t.after(() => reopened.close());
    assert.deepEqual(await reopened.load(), before);
  });
});

/** Writes snapshot 2 (file `state at 2`), entries 3..5 of term 1 and hard state (1, 0, 3), then closes. */
async function seedStorage(dir: string): Promise<void> {
  const storage = await LevelStorage.open(dir);
  await storage.save(batch({ entries: commands(1, 5, 1), hardState: hard(1, 0, 3) }));
  await storage.save(batch({ snapshot: snapshot(2, 1), compactTo: 2 }));
  await storage.close();
}

async function editDatabase(
  dir: string,
  edit: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>,
): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(join(dir, LEVELDB_FOLDER), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  try {
    await edit(db);
  } finally {
    await db.close();
  }
}

const rawPackr = new Packr({ useRecords: false });

function rawValue(fields: Record<string, unknown>): Buffer {
  return frameValue(rawPackr.pack(fields));
}

interface CorruptionCase {
  readonly name: string;
  readonly edit: (db: ClassicLevel<Buffer, Buffer>) => Promise<void>;
  /** Whether `open` already fails, or only `load`. */
  readonly failsOn: 'open' | 'load';
  readonly fields: Partial<Pick<StorageError, 'key' | 'expectedIndex' | 'foundIndex'>>;
}

const ENTRY_4 = entryKey(4).toString('hex');

const CORRUPTION_CASES: readonly CorruptionCase[] = [
  {
    name: 'truncated MessagePack',
    edit: (db) => db.put(entryKey(4), frameValue(Buffer.from([0x92, 0x01]))),
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'unknown format version',
    edit: (db) => db.put(entryKey(4), Buffer.from([9, ...encodeEntry(command(4, 1)).subarray(1)])),
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'changed byte',
    edit: (db) => {
      const value = encodeEntry(command(4, 1));
      value[value.length - 1]! ^= 0x01;
      return db.put(entryKey(4), value);
    },
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'empty value',
    edit: (db) => db.put(entryKey(4), Buffer.alloc(0)),
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'entry under the wrong key',
    edit: (db) => db.put(entryKey(4), encodeEntry(command(5, 1))),
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'entry of unknown kind',
    edit: (db) => db.put(entryKey(4), rawValue({ index: 4, term: 1, kind: 'bogus' })),
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'command without data',
    edit: (db) => db.put(entryKey(4), rawValue({ index: 4, term: 1, kind: 'command' })),
    failsOn: 'load',
    fields: { key: ENTRY_4 },
  },
  {
    name: 'gap in the log',
    edit: (db) => db.del(entryKey(4)),
    failsOn: 'load',
    fields: { expectedIndex: 4, foundIndex: 5 },
  },
  {
    name: 'log not right after the snapshot',
    edit: (db) => db.del(entryKey(3)),
    failsOn: 'open',
    fields: { expectedIndex: 3, foundIndex: 4 },
  },
  {
    name: 'gap in trailing entries',
    edit: (db) => db.put(entryKey(1), encodeEntry(command(1, 1))),
    failsOn: 'load',
    fields: { expectedIndex: 2, foundIndex: 3 },
  },
  {
    name: 'log ending below the snapshot',
    edit: (db) =>
      db.put(
        SNAPSHOT_KEY,
        encodeSnapshotRecord({
          meta: snapshot(6, 1).meta,
          file: snapshotFileName(6),
          size: 0,
          sha256: new Uint8Array(32),
        }),
      ),
    failsOn: 'open',
    fields: { expectedIndex: 6, foundIndex: 5 },
  },

  {
    name: 'undecodable hard state',
    edit: (db) => db.put(HARD_STATE_KEY, frameValue(Buffer.from([0xc1]))),
    failsOn: 'open',
    fields: { key: HARD_STATE_KEY.toString('hex') },
  },
  {
    name: 'commit past the log',
    edit: (db) => db.put(HARD_STATE_KEY, encodeHardState(hard(1, 0, 9))),
    failsOn: 'open',
    fields: { expectedIndex: 9, foundIndex: 5 },
  },
  {
    name: 'snapshot record naming another file',
    edit: (db) =>
      db.put(
        SNAPSHOT_KEY,
        encodeSnapshotRecord({
          meta: snapshot(2, 1).meta,
          file: '../outside.snap',
          size: 0,
          sha256: new Uint8Array(32),
        }),
      ),
    failsOn: 'open',
    fields: { key: SNAPSHOT_KEY.toString('hex') },
  },
  {
    name: 'undecodable snapshot record',
    edit: (db) => db.put(SNAPSHOT_KEY, rawValue({ index: 2 })),
    failsOn: 'open',
    fields: { key: SNAPSHOT_KEY.toString('hex') },
  },
];

describe('LevelStorage detects corruption', () => {
  for (const testCase of CORRUPTION_CASES) {
    test(testCase.name, async (t) => {
      const dir = await tempDir(t);
      await seedStorage(dir);
      await editDatabase(dir, testCase.edit);
      const fields = { path: join(dir, LEVELDB_FOLDER), ...testCase.fields };

      if (testCase.failsOn === 'open') {
        await rejectsWithCode(LevelStorage.open(dir), 'STORAGE_CORRUPT', fields);
        return;
      }
      const storage = await LevelStorage.open(dir);
      t.after(() => storage.close());
      await rejectsWithCode(storage.load(), 'STORAGE_CORRUPT', fields);
    });
  }

  test('snapshot file with a flipped byte', async (t) => {
    const dir = await tempDir(t);
    await seedStorage(dir);
    const file = join(dir, snapshotFileName(2));
    const data = await readFile(file);
    data[0]! ^= 0x01;
    await writeFile(file, data);

    const storage = await LevelStorage.open(dir);
    t.after(() => storage.close());
    await rejectsWithCode(storage.load(), 'STORAGE_CORRUPT', { path: file });
  });

  test('snapshot file cut short', async (t) => {
    const dir = await tempDir(t);
    await seedStorage(dir);
    const file = join(dir, snapshotFileName(2));
    await truncate(file, 3);
    await rejectsWithCode(LevelStorage.open(dir), 'STORAGE_CORRUPT', { path: file });
  });

  test('snapshot file missing', async (t) => {
    const dir = await tempDir(t);
    await seedStorage(dir);
    const file = join(dir, snapshotFileName(2));
    await unlink(file);
    await rejectsWithCode(LevelStorage.open(dir), 'STORAGE_CORRUPT', { path: file });
  });

  test('open removes stray snapshot files', async (t) => {
    const dir = await tempDir(t);
    await seedStorage(dir);
    const temporary = tempFileName(snapshotFileName(7));
    await writeFile(join(dir, temporary), 'half-written snapshot');
    await writeFile(join(dir, snapshotFileName(1)), 'replaced snapshot');
    await writeFile(join(dir, 'notes.txt'), 'not ours');

    const storage = await LevelStorage.open(dir);
    t.after(() => storage.close());
    assert.deepEqual(
      (await readdir(dir)).sort(),
      [LEVELDB_FOLDER, 'notes.txt', MARKER_FILE, snapshotFileName(2)].sort(),
    );
    const state = await storage.load();
    assert.equal(new TextDecoder().decode(state.snapshot?.data), 'state at 2');
  });
});

describe('MemoryStorage', () => {
  test('clone is independent', () => {
    const original = new MemoryStorage();
    original.saveSync(batch({ entries: commands(1, 3, 1), hardState: hard(1, 0, 1) }));
    const copy = original.clone();

    original.saveSync(batch({ truncateFrom: 2, entries: commands(2, 2, 2), hardState: hard(2, 0, 1) }));
    copy.saveSync(batch({ entries: commands(4, 4, 1) }));

    assert.equal(summarize(original.loadSync()).log, '1:1 2:2');
    assert.equal(summarize(copy.loadSync()).log, '1:1 2:1 3:1 4:1');
    assert.deepEqual(copy.loadSync().hardState, hard(1, 0, 1));
  });

  test('stored bytes are copies', () => {
    const storage = new MemoryStorage();
    const data = new Uint8Array([1, 2, 3]);
    const snapshotData = new Uint8Array([7, 8]);
    storage.saveSync(
      batch({ entries: [{ index: 1, term: 1, kind: 'command', data }], hardState: hard(1, 0, 1) }),
    );
    storage.saveSync(batch({ snapshot: { meta: snapshot(1, 1).meta, data: snapshotData }, compactTo: 1 }));
    storage.saveSync(batch({ entries: [{ index: 2, term: 1, kind: 'command', data }] }));
    data[0] = 99;
    snapshotData[0] = 99;

    const loaded = storage.loadSync();
    assert.deepEqual(loaded.snapshot?.data, new Uint8Array([7, 8]));
    assert.deepEqual(loaded.entries[0], {
      index: 2,
      term: 1,
      kind: 'command',
      data: new Uint8Array([1, 2, 3]),
    });

    (loaded.entries[0] as CommandEntry).data[1] = 99;
    assert.deepEqual(storage.loadSync().entries[0], {
      index: 2,
      term: 1,
      kind: 'command',
      data: new Uint8Array([1, 2, 3]),
    });
  });

  test('closed storage rejects calls', async () => {
    const storage = new MemoryStorage();
    await storage.close();
    assert.throws(
      () => storage.saveSync(EMPTY_BATCH),
      (err) => err instanceof StorageError && err.code === 'STORAGE_CLOSED',
    );
    await rejectsWithCode(storage.load(), 'STORAGE_CLOSED');
    assert.equal(storage.clone().loadSync().entries.length, 0, 'a clone starts open');
  });
});
