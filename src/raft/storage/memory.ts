import type { DurableState, Entry, Membership, PersistBatch, Snapshot } from '../types.js';
import { EMPTY_BOUNDS, type LogBounds, planBatch } from './batch-plan.js';
import { type RaftStorage, StorageError } from './storage.js';

/** Path reported in the errors of a MemoryStorage, which has no file. */
const MEMORY_PATH = ':memory:';

/**
 * RaftStorage in memory for the deterministic simulator. A batch is checked and applied exactly as
 * LevelStorage does (both go through `planBatch`), and it lands all at once, as a LevelStorage
 * batch does once it is synced.
 *
 * Saved entries and snapshots are copied on the way in and out, so the caller cannot change stored
 * data by mutating a Uint8Array afterwards.
 */
export class MemoryStorage implements RaftStorage {
  #bounds: LogBounds = EMPTY_BOUNDS;
  #snapshot: Snapshot | null = null;
  /** Stored log, trailing entries below the snapshot included. Invariant: `#entries[i].index === #bounds.firstIndex + i`. */
  #entries: Entry[] = [];
  #closed = false;

  /**
   * Returns a storage that contains `state` as if it had been saved, for tests that start from a
   * state read back from another storage. Throws when the entries have a gap or miss the snapshot.
   */
  static fromState(state: DurableState): MemoryStorage {
    const storage = new MemoryStorage();
    const snapshotIndex = state.snapshot?.meta.index ?? 0;
    const entries = state.entries.map(copyEntry);
    const first = entries[0]?.index ?? snapshotIndex + 1;
    const last = entries.at(-1)?.index ?? snapshotIndex;
    entries.forEach((entry, position) => {
      if (entry.index !== first + position)
        throw new Error(`state has a gap in its log before index ${entry.index}`);
    });
    if (entries.length > 0 && (first > snapshotIndex + 1 || last < snapshotIndex)) {
      throw new Error(`state log [${first}, ${last}] does not reach its snapshot at index ${snapshotIndex}`);
    }
    storage.#entries = entries;
    storage.#snapshot = state.snapshot === null ? null : copySnapshot(state.snapshot);
    storage.#bounds = {
      firstIndex: first,
      snapshotIndex,
      lastIndex: last,
      hardState: { ...state.hardState },
    };
    return storage;
  }

  /** Returns a copy of the durable state: the snapshot and every stored entry, those kept below it included. */
  loadSync(): DurableState {
    this.#checkOpen('load');
    return {
      hardState: this.#bounds.hardState,
      snapshot: this.#snapshot === null ? null : copySnapshot(this.#snapshot),
      entries: this.#entries.map(copyEntry),
    };
  }

  /** Applies the batch at once, or throws without changing anything. */
  saveSync(batch: PersistBatch): void {
    this.#checkOpen('save');
    const plan = planBatch(this.#bounds, batch);
    if (plan.empty) return;

    const added = batch.entries.map(copyEntry);
    const snapshot = batch.snapshot === null ? this.#snapshot : copySnapshot(batch.snapshot);

    const compacted = plan.compacted === null ? 0 : plan.compacted.to - plan.compacted.from + 1;
    if (compacted > 0) this.#entries.splice(0, compacted);
    if (batch.truncateFrom !== null && this.#entries.length > 0) {
      const first = this.#bounds.firstIndex + compacted;
      this.#entries.length = Math.max(0, Math.min(this.#entries.length, batch.truncateFrom - first));
    }
    for (const entry of added) this.#entries.push(entry);

    this.#snapshot = snapshot;
    const { term, vote, commit } = plan.bounds.hardState;
    this.#bounds = { ...plan.bounds, hardState: { term, vote, commit } };
  }

  /** Returns an open storage holding the same durable state, for a simulated crash and restart. */
  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    copy.#bounds = this.#bounds;
    copy.#snapshot = this.#snapshot;
    // Stored entries and snapshots are private copies that are never mutated, so sharing them is safe.
    copy.#entries = this.#entries.slice();
    return copy;
  }

  async load(): Promise<DurableState> {
    return this.loadSync();
  }

  async save(batch: PersistBatch): Promise<void> {
    this.saveSync(batch);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(action: string): void {
    if (this.#closed) {
      throw new StorageError('STORAGE_CLOSED', `cannot ${action}: the memory storage is closed`, {
        path: MEMORY_PATH,
      });
    }
  }
}

function copyEntry(entry: Entry): Entry {
  switch (entry.kind) {
    case 'noop':
      return { term: entry.term, index: entry.index, kind: 'noop' };
    case 'command':
      return { term: entry.term, index: entry.index, kind: 'command', data: new Uint8Array(entry.data) };
    case 'config':
      return {
        term: entry.term,
        index: entry.index,
        kind: 'config',
        membership: copyMembership(entry.membership),
      };
  }
}

function copySnapshot(snapshot: Snapshot): Snapshot {
  const { index, term, membership } = snapshot.meta;
  return {
    meta: { index, term, membership: copyMembership(membership) },
    data: new Uint8Array(snapshot.data),
  };
}

function copyMembership(membership: Membership): Membership {
  return {
    voters: [...membership.voters],
    learners: [...membership.learners],
    removed: [...membership.removed],
  };
}
