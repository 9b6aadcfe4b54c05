import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFile,
  chmod,
  chown,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ClassicLevel } from 'classic-level';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import {
  entryKey,
  FORMAT_VERSION,
  frameValue,
  HARD_STATE_KEY,
  SNAPSHOT_KEY,
} from '../../../src/raft/storage/codec.js';
import { LEVELDB_FOLDER, LevelStorage } from '../../../src/raft/storage/level.js';
import { snapshotFileName } from '../../../src/raft/storage/snapshot-file.js';
import { CORRUPT_ADVICE, StorageError, type StorageErrorCode } from '../../../src/raft/storage/storage.js';
import type { DurableState, Entry, HardState, PersistBatch } from '../../../src/raft/types.js';
import { flipBit, logRecords, onlyFile } from './fixtures/leveldb-files.js';

/**
 * LevelStorage on real folders, damaged the way disks and operators damage them. Every fault must
 * end in a StorageError whose code fits and whose message names the path (and, for corruption,
 * what to do), or in the state that was saved: never in a state missing acknowledged data.
 */

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PROBE_FIXTURE = fileURLToPath(new URL('./fixtures/storage-probe.ts', import.meta.url));
const CHILD_TIMEOUT_MS = 30_000;
/** The user that the read-only tests run the probe as when this process is root. */
const UNPRIVILEGED_ID = 65_534;
const SNAPSHOT_INDEX = 3;

function command(index: number, term: number): Entry {
  // Hash bytes do not compress, so they appear unchanged in LevelDB's files.
  const data = createHash('sha256').update(`command ${index}`).digest();
  return { index, term, kind: 'command', data: new Uint8Array(data) };
}

function batch(fields: Partial<PersistBatch>): PersistBatch {
  return { snapshot: null, truncateFrom: null, compactTo: null, entries: [], hardState: null, ...fields };
}

function hard(term: number, vote: number, commit: number): HardState {
  return { term, vote, commit };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-robustness-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Saves four batches (entries, a vote on its own, more entries, a snapshot at index 3 that keeps
 * entry 3 below it), closes the storage and returns the state that it acknowledged.
 */
async function seed(dir: string): Promise<DurableState> {
  const storage = await LevelStorage.open(dir);
  try {
    await storage.save(
      batch({ entries: [1, 2, 3, 4].map((index) => command(index, 1)), hardState: hard(1, 0, 2) }),
    );
    await storage.save(batch({ hardState: hard(2, 3, 2) }));
    await storage.save(batch({ entries: [command(5, 2), command(6, 2)], hardState: hard(2, 3, 5) }));
    await storage.save(
      batch({
        snapshot: {
          meta: {
            index: SNAPSHOT_INDEX,
            term: 1,
            membership: { voters: [1, 2, 3], learners: [], removed: [] },
          },
          data: new TextEncoder().encode(`state at ${SNAPSHOT_INDEX}`),
        },
        compactTo: 2,
      }),
    );
    return await storage.load();
  } finally {
    await storage.close();
  }
}

/** Opens and loads `dir`, and returns the state or the error of the step that failed. */
async function openAndLoad(
  dir: string,
): Promise<{ state: DurableState } | { error: unknown; failedOn: 'open' | 'load' }> {
  let storage: LevelStorage;
  try {
    storage = await LevelStorage.open(dir);
  } catch (error) {
    return { error, failedOn: 'open' };
  }
  try {
    return { state: await storage.load() };
  } catch (error) {
    return { error, failedOn: 'load' };
  } finally {
    await storage.close();
  }
}

function checkStorageError(error: unknown, code: StorageErrorCode, path: string): void {
  assert.ok(error instanceof StorageError, `expected a StorageError, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.equal(error.path, path);
  assert.ok(error.message.includes(path), `message names ${path}: ${error.message}`);
  if (code === 'STORAGE_CORRUPT')
    assert.ok(error.message.includes(CORRUPT_ADVICE), `message says what to do: ${error.message}`);
}

/** Asserts that opening `dir` fails with `code` naming `path`, or returns exactly the acknowledged state. */
async function assertDetectedOrIntact(
  dir: string,
  acknowledged: DurableState,
  code: StorageErrorCode,
  path: string,
) {
  const outcome = await openAndLoad(dir);
  if ('state' in outcome) {
    assert.deepEqual(outcome.state, acknowledged, 'storage loaded a state other than the acknowledged one');
    return;
  }
  checkStorageError(outcome.error, code, path);
}

describe('snapshot file faults', () => {
  const cases: readonly {
    name: string;
    damage: (file: string) => Promise<void>;
    failsOn: 'open' | 'load';
  }[] = [
    {
      name: 'truncated to half',
      damage: async (file) => truncate(file, (await stat(file)).size >> 1),
      failsOn: 'open',
    },
    { name: 'truncated to zero', damage: (file) => truncate(file, 0), failsOn: 'open' },
    { name: 'longer than recorded', damage: (file) => appendFile(file, 'x'), failsOn: 'open' },
    { name: 'first byte flipped', damage: (file) => flipBit(file, 0), failsOn: 'load' },
    {
      name: 'last byte flipped',
      damage: async (file) => flipBit(file, (await stat(file)).size - 1),
      failsOn: 'load',
    },
    { name: 'deleted', damage: (file) => unlink(file), failsOn: 'open' },
    {
      name: 'replaced by a folder',
      damage: async (file) => {
        await unlink(file);
        await mkdir(file);
      },
      failsOn: 'open',
    },
  ];

  for (const testCase of cases) {
    test(testCase.name, async (t) => {
      const dir = await tempDir(t);
      const acknowledged = await seed(dir);
      const file = join(dir, snapshotFileName(SNAPSHOT_INDEX));
      const original = await readFile(file);
      await testCase.damage(file);

      const outcome = await openAndLoad(dir);
      assert.ok('error' in outcome, 'the damaged snapshot was detected');
      assert.equal(outcome.failedOn, testCase.failsOn);
      checkStorageError(outcome.error, 'STORAGE_CORRUPT', file);

      // The failed open destroyed nothing: with the file restored, the folder loads as saved.
      await rm(file, { recursive: true, force: true });
      await writeFile(file, original);
      assert.deepEqual(await openAndLoad(dir), { state: acknowledged });
    });
  }
});

describe('LevelDB value faults', () => {
  test('garbage values are STORAGE_CORRUPT', async (t) => {
    const dir = await tempDir(t);
    const seeded = join(dir, 'seeded');
    await seed(seeded);
    const packr = new Packr({ useRecords: false });
    const keys = {
      'hard state': HARD_STATE_KEY,
      'snapshot record': SNAPSHOT_KEY,
      'first entry': entryKey(SNAPSHOT_INDEX - 1),
      'entry at the snapshot': entryKey(SNAPSHOT_INDEX),
      'last entry': entryKey(6),
    };
    // Bytes that are not a valid record: random bytes, or the format version followed by random
    // bytes or by MessagePack of something other than a map.
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 48 }),
      fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.concat([Buffer.from([FORMAT_VERSION]), bytes])),
      fc
        .oneof(fc.integer(), fc.string(), fc.array(fc.nat()), fc.constant(null), fc.boolean())
        .map((value) => frameValue(packr.pack(value))),
    );
    let run = 0;

    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(keys)), garbage, async (name, value) => {
        const copy = join(dir, `run-${run++}`);
        await cp(seeded, copy, { recursive: true });
        const key = keys[name as keyof typeof keys];
        const db = new ClassicLevel<Buffer, Buffer>(join(copy, LEVELDB_FOLDER), {
          keyEncoding: 'buffer',
          valueEncoding: 'buffer',
        });
        await db.open();
        await db.put(key, Buffer.from(value));
        await db.close();

        const outcome = await openAndLoad(copy);
        assert.ok('error' in outcome, `garbage in the ${name} was loaded`);
        checkStorageError(outcome.error, 'STORAGE_CORRUPT', join(copy, LEVELDB_FOLDER));
        assert.equal((outcome.error as StorageError).key, key.toString('hex'));
        await rm(copy, { recursive: true });
      }),
      { seed: 20_261_204, numRuns: 30 },
    );
  });

  for (const record of [0, 1, 3]) {
    test(`corrupted write-ahead log record ${record}`, {}, async (t) => {
      const dir = await tempDir(t);
      const acknowledged = await seed(dir);
      const dbPath = join(dir, LEVELDB_FOLDER);
      const log = await onlyFile(dbPath, '.log');
      const records = logRecords(await readFile(log));
      assert.equal(records.length, 4, 'one log record per saved batch');
      const { offset, length } = records[record]!;
      await flipBit(log, offset + (length >> 1));

      await assertDetectedOrIntact(dir, acknowledged, 'STORAGE_CORRUPT', dbPath);
    });
  }

  test('damaged log stays refused on reopen', async (t) => {
    const dir = await tempDir(t);
    await seed(dir);
    const dbPath = join(dir, LEVELDB_FOLDER);
    const log = await onlyFile(dbPath, '.log');
    const { offset, length } = logRecords(await readFile(log))[1]!;
    await flipBit(log, offset + (length >> 1));

    // The first open finds the damage in LevelDB's LOG; LevelDB has rewritten its files by then,
    // so a second open must not load the older state either.
    for (const attempt of ['first', 'second']) {
      await assert.rejects(
        LevelStorage.open(dir),
        (error: unknown) => error instanceof StorageError && error.code === 'STORAGE_CORRUPT',
        `${attempt} open`,
      );
    }
  });

  test('flipped byte in a LevelDB table', {}, async (t) => {
    const dir = await tempDir(t);
    const acknowledged = await seed(dir);
    // A second open replays the write-ahead log into a sorted table.
    await (await LevelStorage.open(dir)).close();
    const dbPath = join(dir, LEVELDB_FOLDER);
    const table = await onlyFile(dbPath, '.ldb');
    const data = (command(5, 2) as { data: Uint8Array }).data;
    const at = (await readFile(table)).indexOf(Buffer.from(data));
    assert.ok(at >= 0, 'entry 5 is stored uncompressed in the table');
    await flipBit(table, at + 7);

    await assertDetectedOrIntact(dir, acknowledged, 'STORAGE_CORRUPT', dbPath);
  });

  test('missing LevelDB CURRENT file', {}, async (t) => {
    const dir = await tempDir(t);
    const acknowledged = await seed(dir);
    await (await LevelStorage.open(dir)).close();
    const dbPath = join(dir, LEVELDB_FOLDER);
    await unlink(join(dbPath, 'CURRENT'));

    await assertDetectedOrIntact(dir, acknowledged, 'STORAGE_CORRUPT', dbPath);
  });

  test('deleted LevelDB folder', {}, async (t) => {
    const dir = await tempDir(t);
    const acknowledged = await seed(dir);
    const dbPath = join(dir, LEVELDB_FOLDER);
    await rm(dbPath, { recursive: true });

    await assertDetectedOrIntact(dir, acknowledged, 'STORAGE_CORRUPT', dbPath);
    assert.ok((await readdir(dir)).includes(snapshotFileName(SNAPSHOT_INDEX)), 'the snapshot file is kept');
  });
});

let probeRunnable: Promise<string | null> | undefined;

/**
 * Returns why the probe cannot run, or null. As root the probe runs as an unprivileged user, who
 * must be able to reach the node binary and this checkout. A CI checkout under a private folder
 * (such as /root) is out of that user's reach, so the read-only tests are skipped, not failed.
 */
function probeUnavailable(): Promise<string | null> {
  probeRunnable ??= (async () => {
    if (process.getuid?.() !== 0) return null;
    try {
      await promisify(execFile)(
        process.execPath,
        ['-e', `require('node:fs').accessSync(${JSON.stringify(PROBE_FIXTURE)})`],
        {
          cwd: tmpdir(),
          timeout: CHILD_TIMEOUT_MS,
          uid: UNPRIVILEGED_ID,
          gid: UNPRIVILEGED_ID,
        },
      );
      return null;
    } catch (error) {
      return `user ${UNPRIVILEGED_ID} cannot run node on this checkout: ${(error as Error).message.split('\n')[0]}`;
    }
  })();
  return probeRunnable;
}

/** Runs the probe fixture on `dir`, as an unprivileged user when this process is root. */
async function probe(dir: string): Promise<Record<string, unknown>> {
  const asRoot = process.getuid?.() === 0;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', PROBE_FIXTURE, dir], {
    cwd: REPO_ROOT,
    timeout: CHILD_TIMEOUT_MS,
    ...(asRoot ? { uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID } : {}),
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** Makes `path` and everything under it read-only, and gives it to the probe's user when running as root. */
async function makeReadOnly(path: string): Promise<void> {
  const info = await stat(path);
  if (process.getuid?.() === 0) await chown(path, UNPRIVILEGED_ID, UNPRIVILEGED_ID);
  if (info.isDirectory()) {
    for (const name of await readdir(path)) await makeReadOnly(join(path, name));
    await chmod(path, 0o555);
  } else {
    await chmod(path, 0o444);
  }
}

/** Creates a temporary folder that the probe's user may enter, and registers the cleanup that read-only modes need. */
async function sharedTempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-robustness-'));
  await chmod(dir, 0o755);
  t.after(async () => {
    await promisify(execFile)('chmod', ['-R', 'u+w', dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Seeds a data folder, makes it read-only and returns what the probe reports for it. */
async function probeReadOnly(t: TestContext): Promise<{ dir: string; outcome: Record<string, unknown> }> {
  const dir = join(await sharedTempDir(t), 'data');
  await seed(dir);
  await makeReadOnly(dir);
  return { dir, outcome: await probe(dir) };
}

describe('data folder faults', () => {
  test('chmod does not stop root', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('not running as root');
      return;
    }
    const dir = join(await sharedTempDir(t), 'data');
    await seed(dir);

    // Root ignores file modes, which is why the read-only tests run their probe as another user.
    await chmod(dir, 0o500);
    const storage = await LevelStorage.open(dir);
    await storage.save(batch({ entries: [command(7, 2)] }));
    await storage.close();
    await chmod(dir, 0o755);

    const outcome = await openAndLoad(dir);
    assert.ok('state' in outcome, 'the folder opens again');
    assert.equal(outcome.state.entries.at(-1)?.index, 7, 'the save under chmod 0500 was written');
  });

  test('read-only data folder', async (t) => {
    const unavailable = await probeUnavailable();
    if (unavailable !== null) return t.skip(unavailable);
    const { dir, outcome } = await probeReadOnly(t);
    assert.equal(outcome.name, 'StorageError', JSON.stringify(outcome));
    assert.equal(outcome.code, 'STORAGE_IO');
    const dbPath = join(dir, LEVELDB_FOLDER);
    assert.equal(outcome.path, dbPath);
    assert.ok(String(outcome.message).includes(dbPath), String(outcome.message));
  });

  test('read-only error gives the reason', {}, async (t) => {
    const unavailable = await probeUnavailable();
    if (unavailable !== null) return t.skip(unavailable);
    const { outcome } = await probeReadOnly(t);
    const causes = outcome.causes as string[];
    assert.ok(causes.length > 0, JSON.stringify(outcome));
    const reason = causes.at(-1)!;
    assert.ok(
      String(outcome.message).includes(reason),
      `message ${JSON.stringify(outcome.message)} lacks ${reason}`,
    );
  });

  test('new data folder in a read-only parent', {}, async (t) => {
    const unavailable = await probeUnavailable();
    if (unavailable !== null) return t.skip(unavailable);
    const parent = join(await sharedTempDir(t), 'parent');
    await mkdir(parent);
    await makeReadOnly(parent);
    const dir = join(parent, 'data');

    const outcome = await probe(dir);
    assert.equal(outcome.name, 'StorageError', JSON.stringify(outcome));
    assert.equal(outcome.code, 'STORAGE_IO');
    assert.equal(outcome.path, dir);
  });

  for (const name of ['data folder path is a file', 'parent of the data folder is a file'] as const) {
    test(name, async (t) => {
      const file = join(await tempDir(t), 'not-a-folder');
      await writeFile(file, 'operator notes');
      const dir = name === 'data folder path is a file' ? file : join(file, 'data');

      await assert.rejects(LevelStorage.open(dir), (error: unknown) => {
        checkStorageError(error, 'STORAGE_IO', dir);
        return true;
      });
      assert.equal(await readFile(file, 'utf8'), 'operator notes');
    });
  }

  test('leveldb path is a file', async (t) => {
    const dir = await tempDir(t);
    const dbPath = join(dir, LEVELDB_FOLDER);
    await writeFile(dbPath, 'not a database');
    await assert.rejects(LevelStorage.open(dir), (error: unknown) => {
      checkStorageError(error, 'STORAGE_IO', dbPath);
      return true;
    });
  });

  test('same folder opened twice', async (t) => {
    const dir = await tempDir(t);
    const acknowledged = await seed(dir);
    const dbPath = join(dir, LEVELDB_FOLDER);

    const first = await LevelStorage.open(dir);
    await assert.rejects(LevelStorage.open(dir), (error: unknown) => {
      checkStorageError(error, 'STORAGE_LOCKED', dbPath);
      return true;
    });
    await first.close();

    // Two opens racing: exactly one wins and the other is locked out.
    const raced = await Promise.allSettled([LevelStorage.open(dir), LevelStorage.open(dir)]);
    const opened = raced.filter((result) => result.status === 'fulfilled');
    const rejected = raced.filter((result) => result.status === 'rejected');
    assert.equal(opened.length, 1);
    checkStorageError(rejected[0]?.reason, 'STORAGE_LOCKED', dbPath);
    await (opened[0] as PromiseFulfilledResult<LevelStorage>).value.close();

    assert.deepEqual(await openAndLoad(dir), { state: acknowledged });
  });
});
