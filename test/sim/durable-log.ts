import type {
  DurableState,
  Entry,
  HardState,
  PersistBatch,
  Snapshot,
  SnapshotMeta,
} from '../../src/raft/types.js';

/** A persist batch that storage cannot apply without leaving a hole or a disorder in the log. */
export class InvalidPersistBatchError extends Error {
  override readonly name = 'InvalidPersistBatchError';
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

/**
 * What one simulated server has made durable, rebuilt from the batches it persisted with the
 * semantics documented on `PersistBatch`. The server restarts from its MemoryStorage, and this copy
 * lets the invariant checker read the durable log cheaply, and cross-checks that storage.
 */
export class DurableLog {
  #hardState: HardState;
  #snapshot: Snapshot | null;
  /** Contiguous entries. They may overlap the snapshot (entries kept for catch-up). */
  #entries: Entry[];

  constructor(initial: DurableState) {
    this.#hardState = initial.hardState;
    this.#snapshot = initial.snapshot;
    this.#entries = [];
    this.saveSync({
      snapshot: null,
      truncateFrom: null,
      compactTo: null,
      entries: initial.entries,
      hardState: null,
    });
  }

  static empty(): DurableLog {
    return new DurableLog({ hardState: EMPTY_HARD_STATE, snapshot: null, entries: [] });
  }

  get hardState(): HardState {
    return this.#hardState;
  }

  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  get snapshotMeta(): SnapshotMeta | null {
    return this.#snapshot?.meta ?? null;
  }

  get snapshotIndex(): number {
    return this.#snapshot?.meta.index ?? 0;
  }

  /** Index of the last entry, or of the snapshot when no entry follows it. */
  get lastIndex(): number {
    const last = this.#entries.at(-1);
    return Math.max(last?.index ?? 0, this.snapshotIndex);
  }

  /** Returns the stored entry at `index`, or undefined when the log no longer contains it. */
  entryAt(index: number): Entry | undefined {
    const first = this.#entries[0];
    if (first === undefined) return undefined;
    return this.#entries[index - first.index];
  }

  /** Returns the term at `index` from the log or the snapshot: 0 at index 0, undefined when unknown. */
  termAt(index: number): number | undefined {
    if (index === 0) return 0;
    const entry = this.entryAt(index);
    if (entry !== undefined) return entry.term;
    if (this.#snapshot !== null && this.#snapshot.meta.index === index) return this.#snapshot.meta.term;
    return undefined;
  }

  /** The durable state as a restarted server should read it back: the snapshot and every stored entry. */
  durableState(): DurableState {
    return { hardState: this.#hardState, snapshot: this.#snapshot, entries: [...this.#entries] };
  }

  /** Applies `batch` in the order its type documents. Throws InvalidPersistBatchError on a hole. */
  saveSync(batch: PersistBatch): void {
    if (batch.snapshot !== null) this.#snapshot = batch.snapshot;
    if (batch.truncateFrom !== null) this.#truncateFrom(batch.truncateFrom);
    if (batch.compactTo !== null) this.#compactTo(batch.compactTo);
    if (batch.entries.length > 0) {
      const expected = this.lastIndex + 1;
      const first = batch.entries[0]!.index;
      if (first !== expected) {
        throw new InvalidPersistBatchError(
          `cannot persist entries from index ${first}: the durable log ends at ${expected - 1}`,
        );
      }
      batch.entries.forEach((entry, i) => {
        if (entry.index !== first + i) {
          throw new InvalidPersistBatchError(
            `cannot persist entries out of order: ${entry.index} at position ${i}`,
          );
        }
        this.#entries.push(entry);
      });
    }
    if (batch.hardState !== null) this.#hardState = batch.hardState;
    this.#validateLog('persist batch');
  }

  #truncateFrom(index: number): void {
    const first = this.#entries[0];
    if (first === undefined) return;
    this.#entries.length = Math.max(0, Math.min(this.#entries.length, index - first.index));
  }

  #compactTo(index: number): void {
    const first = this.#entries[0];
    if (first === undefined) return;
    this.#entries.splice(0, Math.max(0, Math.min(this.#entries.length, index - first.index + 1)));
  }

  /** Rejects a gap between snapshot and log. The log itself is contiguous by construction. */
  #validateLog(context: string): void {
    const first = this.#entries[0];
    if (first === undefined) return;
    if (first.index > this.snapshotIndex + 1) {
      throw new InvalidPersistBatchError(
        `${context} leaves a hole: snapshot ends at ${this.snapshotIndex}, log starts at ${first.index}`,
      );
    }
  }
}
