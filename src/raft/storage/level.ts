import { join, resolve } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import type { DurableState, Entry, PersistBatch } from '../types.js';
import {
  type BatchPlan,
  EMPTY_HARD_STATE,
  type IndexRange,
  type LogBounds,
  planBatch,
} from './batch-plan.js';
import {
  decodeEntry,
  decodeHardState,
  decodeSnapshotRecord,
  ENTRY_KEY_RANGE,
  encodeEntry,
  encodeHardState,
  encodeSnapshotRecord,
  entryKey,
  entryKeyIndex,
  HARD_STATE_KEY,
  SNAPSHOT_KEY,
  type SnapshotRecord,
} from './codec.js';
import {
  checkNotDamaged,
  checkRecoveryLog,
  createDataFolder,
  hasMarker,
  innermostMessage,
  missingDatabase,
  writeMarker,
} from './data-folder.js';
import {
  checkSnapshotFile,
  readSnapshotFile,
  removeStraySnapshotFiles,
  syncDirectory,
  writeSnapshotFile,
} from './snapshot-file.js';
import { CORRUPT_ADVICE, type RaftStorage, StorageError } from './storage.js';

/** Folder of the LevelDB database inside the data folder. Snapshot files are next to it. */
export const LEVELDB_FOLDER = 'leveldb';

/** Deletions queued into one chained batch between two yields to the event loop. */
const DELETES_PER_YIELD = 8192;

type Database = ClassicLevel<Buffer, Buffer>;

/**
 * RaftStorage on LevelDB (classic-level), with snapshot data in files beside it.
 *
 * `save` runs one batch at a time: the snapshot file first (synced and renamed), then one chained
 * LevelDB batch written with `sync: true` holding the snapshot record, the deletions of compaction
 * and truncation, the new entries and the hard state. So steps 2 to 4 of a PersistBatch land
 * together or not at all. The first and last index stay in memory, so `save` never reads.
 *
 * A failed write leaves the state on disk unknown, so the storage then rejects every later save
 * with STORAGE_IO. Open it again to continue from what is durable.
 */
export class LevelStorage implements RaftStorage {
  readonly #dir: string;
  readonly #dbPath: string;
  readonly #db: Database;
  #bounds: LogBounds;
  #snapshot: SnapshotRecord | null;
  /** Tail of the chain of queued operations. It never rejects. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #failure: unknown = null;

  private constructor(dir: string, db: Database, bounds: LogBounds, snapshot: SnapshotRecord | null) {
    this.#dir = dir;
    this.#dbPath = join(dir, LEVELDB_FOLDER);
    this.#db = db;
    this.#bounds = bounds;
    this.#snapshot = snapshot;
  }

  /**
   * Opens or creates the data folder `dir`. Rejects with STORAGE_LOCKED when another process has
   * it open, and with STORAGE_CORRUPT when the stored records do not fit together. Deletes
   * temporary and unreferenced snapshot files, which a crash can leave behind.
   */
  static async open(dir: string): Promise<LevelStorage> {
    dir = resolve(dir);
    await createDataFolder(dir);

    const dbPath = join(dir, LEVELDB_FOLDER);
    await checkNotDamaged(dir, dbPath);
    // An open that crashed after LevelDB's recovery left its evidence in LOG (or, after another
    // attempt, LOG.old). LevelDB rotates LOG on open, so read both before opening it.
    await checkRecoveryLog(dir, dbPath, ['LOG', 'LOG.old']);
    const initialized = await hasMarker(dir);
    const db: Database = new ClassicLevel<Buffer, Buffer>(dbPath, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
      // Once the folder contains Raft state, a missing database is data loss, not a fresh start.
      createIfMissing: !initialized,
    });
    try {
      await db.open();
    } catch (err) {
      // LevelDB reports an absent database as "CURRENT: does not exist (create_if_missing is false)".
      const absent = /does not exist/.test(innermostMessage(err));
      throw initialized && absent ? missingDatabase(dbPath, err) : openError(dbPath, err);
    }

    try {
      await checkRecoveryLog(dir, dbPath, ['LOG']);
      // LevelDB syncs the files inside its folder, but not the folder's own entry in `dir`.
      await syncDirectory(dir);
      if (!initialized) await writeMarker(dir);
      const { bounds, snapshot } = await readBounds(db, dbPath);
      await removeStraySnapshotFiles(dir, snapshot?.file ?? null);
      if (snapshot !== null) await checkSnapshotFile(dir, snapshot);
      return new LevelStorage(dir, db, bounds, snapshot);
    } catch (err) {
      await db.close();
      throw asStorageError(err, dbPath, 'open');
    }
  }

  /** Reads the snapshot (checking its SHA-256) and every entry, checking that the log has no gap. */
  load(): Promise<DurableState> {
    return this.#enqueue('load', () => this.#load());
  }

  save(batch: PersistBatch): Promise<void> {
    return this.#enqueue('save', () => this.#save(batch));
  }

  /** Waits for queued operations, then closes LevelDB and releases the data folder. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#db.close();
  }

  #enqueue<T>(action: string, operation: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(
        new StorageError(
          'STORAGE_CLOSED',
          `cannot ${action}: the storage at ${this.#dir} is closed; open it again with LevelStorage.open`,
          { path: this.#dir },
        ),
      );
    }
    const result = this.#queue.then(operation);
    // The caller gets the outcome through `result`, and the queue only keeps the order.
    this.#queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #load(): Promise<DurableState> {
    const bounds = this.#bounds;
    try {
      const snapshot =
        this.#snapshot === null
          ? null
          : { meta: this.#snapshot.meta, data: await readSnapshotFile(this.#dir, this.#snapshot) };

      // Entries kept below the snapshot index are returned too: a restarted leader can still
      // catch up a slightly lagging follower from them instead of sending a snapshot.
      const entries: Entry[] = [];
      let expectedIndex = bounds.firstIndex;
      for await (const [key, value] of this.#db.iterator(ENTRY_KEY_RANGE)) {
        const index = entryKeyIndex(key);
        if (index !== expectedIndex) {
          throw logCorrupt(this.#dbPath, `expected entry ${expectedIndex}, found entry ${index}`, {
            expectedIndex,
            foundIndex: index ?? undefined,
          });
        }
        entries.push(decodeEntry(key, value, this.#dbPath));
        expectedIndex++;
      }
      const lastRead = Math.max(expectedIndex - 1, bounds.snapshotIndex);
      if (lastRead !== bounds.lastIndex) {
        throw logCorrupt(this.#dbPath, `the log ends at ${lastRead}, expected ${bounds.lastIndex}`, {
          expectedIndex: bounds.lastIndex,
          foundIndex: lastRead,
        });
      }
      return { hardState: bounds.hardState, snapshot, entries };
    } catch (err) {
      throw asStorageError(err, this.#dbPath, 'load');
    }
  }

  async #save(batch: PersistBatch): Promise<void> {
    if (this.#failure !== null) {
      throw new StorageError(
        'STORAGE_IO',
        `cannot save: an earlier write to ${this.#dir} failed, so what is on disk is unknown; ` +
          'close the storage and open it again to continue from what is durable',
        { path: this.#dir, cause: this.#failure },
      );
    }

    // An invalid batch throws here, before anything is written.
    const plan = planBatch(this.#bounds, batch);
    if (plan.empty) return;

    let snapshot = this.#snapshot;
    try {
      if (batch.snapshot !== null) {
        const { meta, data } = batch.snapshot;
        const { file, sha256 } = await writeSnapshotFile(this.#dir, meta.index, data);
        snapshot = { meta, file, size: data.length, sha256 };
      }
      await this.#writeBatch(batch, plan, batch.snapshot === null ? null : snapshot);
    } catch (err) {
      this.#failure = err;
      const advice = 'close the storage and open it again to continue from what is durable';
      throw new StorageError('STORAGE_IO', `cannot save to ${this.#dir}: ${String(err)}; ${advice}`, {
        path: this.#dir,
        cause: err,
      });
    }

    const replaced = this.#snapshot;
    this.#bounds = plan.bounds;
    this.#snapshot = snapshot;
    if (replaced !== null && snapshot !== replaced) await this.#removeReplacedFile();
  }

  async #writeBatch(batch: PersistBatch, plan: BatchPlan, snapshot: SnapshotRecord | null): Promise<void> {
    const chained = this.#db.batch();
    try {
      if (snapshot !== null) chained.put(SNAPSHOT_KEY, encodeSnapshotRecord(snapshot));
      // classic-level's chained batch has no range delete, and db.clear() writes in several
      // unsynced LevelDB batches of its own, so it would break the atomicity of the batch.
      // The bounds in memory tell exactly which keys exist, so each is deleted by key, unread.
      await deleteRange(chained, plan.compacted);
      await deleteRange(chained, plan.truncated);
      for (const entry of batch.entries) chained.put(entryKey(entry.index), encodeEntry(entry));
      if (batch.hardState !== null) chained.put(HARD_STATE_KEY, encodeHardState(batch.hardState));
    } catch (err) {
      await chained.close();
      throw err;
    }
    await chained.write({ sync: true });
  }

  /** Deletes snapshot files other than the current one, once the batch that replaced them is durable. */
  async #removeReplacedFile(): Promise<void> {
    try {
      await removeStraySnapshotFiles(this.#dir, this.#snapshot?.file ?? null);
    } catch {
      // The batch is durable, so the save succeeded. A file left here is no longer referenced,
      // and the next open deletes it.
    }
  }
}

type ChainedBatch = ReturnType<Database['batch']>;

async function deleteRange(chained: ChainedBatch, range: IndexRange | null): Promise<void> {
  if (range === null) return;
  for (let index = range.from; index <= range.to; index++) {
    chained.del(entryKey(index));
    if ((index - range.from + 1) % DELETES_PER_YIELD === 0) await yieldToEventLoop();
  }
}

/** Reads what `save` needs in memory: the hard state, the snapshot record and the log's ends. */
async function readBounds(
  db: Database,
  dbPath: string,
): Promise<{ bounds: LogBounds; snapshot: SnapshotRecord | null }> {
  const [hardStateValue, snapshotValue] = await db.getMany([HARD_STATE_KEY, SNAPSHOT_KEY]);
  const hardState = hardStateValue === undefined ? EMPTY_HARD_STATE : decodeHardState(hardStateValue, dbPath);
  const snapshot = snapshotValue === undefined ? null : decodeSnapshotRecord(snapshotValue, dbPath);
  const snapshotIndex = snapshot?.meta.index ?? 0;

  const [first] = await db.keys({ ...ENTRY_KEY_RANGE, limit: 1 }).all();
  const [last] = await db.keys({ ...ENTRY_KEY_RANGE, limit: 1, reverse: true }).all();
  const lastIndex = last === undefined ? snapshotIndex : entryKeyIndex(last)!;
  const firstIndex = first === undefined ? lastIndex + 1 : entryKeyIndex(first)!;

  if (first !== undefined && firstIndex > snapshotIndex + 1) {
    throw logCorrupt(
      dbPath,
      `the log starts at index ${firstIndex}, but the snapshot covers only up to ${snapshotIndex}`,
      { expectedIndex: snapshotIndex + 1, foundIndex: firstIndex },
    );
  }
  if (last !== undefined && lastIndex < snapshotIndex) {
    throw logCorrupt(dbPath, `the log ends at index ${lastIndex}, below snapshot index ${snapshotIndex}`, {
      expectedIndex: snapshotIndex,
      foundIndex: lastIndex,
    });
  }
  if (hardState.commit > lastIndex) {
    throw logCorrupt(dbPath, `the commit index ${hardState.commit} is above the last index ${lastIndex}`, {
      expectedIndex: hardState.commit,
      foundIndex: lastIndex,
    });
  }
  return { bounds: { firstIndex, snapshotIndex, lastIndex, hardState }, snapshot };
}

/** Creates `dir` if needed, and syncs each new folder's entry in its parent. */

function openError(dbPath: string, err: unknown): StorageError {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new StorageError(
      'STORAGE_LOCKED',
      `cannot open ${dbPath}: another process, or another open storage in this one, holds its lock; ` +
        'close it or use another data folder',
      { path: dbPath, cause: err },
    );
  }
  if (cause?.code === 'LEVEL_CORRUPTION') {
    return new StorageError(
      'STORAGE_CORRUPT',
      `cannot open ${dbPath}: LevelDB reports corruption. ${CORRUPT_ADVICE}`,
      {
        path: dbPath,
        cause: err,
      },
    );
  }
  return new StorageError(
    'STORAGE_IO',
    `cannot open ${dbPath}: ${innermostMessage(err)}; check that the folder and its files are readable and writable by this user`,
    { path: dbPath, cause: err },
  );
}

function logCorrupt(
  dbPath: string,
  reason: string,
  indexes: { expectedIndex: number; foundIndex: number | undefined },
): StorageError {
  return new StorageError(
    'STORAGE_CORRUPT',
    `the Raft log in ${dbPath} is not contiguous: ${reason}. ${CORRUPT_ADVICE}`,
    { path: dbPath, ...indexes },
  );
}

/** Passes StorageErrors through and wraps any other failure as STORAGE_IO. */
function asStorageError(err: unknown, path: string, action: string): StorageError {
  if (err instanceof StorageError) return err;
  return new StorageError('STORAGE_IO', `cannot ${action} ${path}: ${String(err)}`, { path, cause: err });
}
