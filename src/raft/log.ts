import type { DurableState, Entry, Snapshot } from './types.js';

/** Approximate in-memory and wire size of an entry, used by the byte limits on appends. */
export function entryBytes(entry: Entry): number {
  return entry.kind === 'command' ? entry.data.length + 24 : 64;
}

/**
 * The replicated log as one server stores it: the entries after the compaction point, plus the
 * bookkeeping of what storage has made durable.
 *
 * Invariants: compactedIndex <= snapshot index <= applied <= commit; entries[k].index == compactedIndex + 1 + k;
 * persistedIndex <= lastIndex.
 */
export class RaftLog {
  /** Entries with indexes compactedIndex + 1 .. lastIndex. */
  #entries: Entry[];
  #compactedIndex: number;
  /** Term at compactedIndex, or -1 when it is unknown (entries kept below the snapshot index). */
  #compactedTerm: number;
  #snapshot: Snapshot | null;

  commit: number;
  /** Highest index handed to the application and acknowledged by `advance`. */
  applied: number;
  /**
   * Highest index up to which storage contains exactly the entries of this log.
   * Lowered by a truncation, raised by `markPersisted`.
   */
  persistedIndex: number;
  /** Lowest index that the next persist batch must write; entries from here on are not yet durable. */
  unstableFrom: number;

  constructor(durable: DurableState) {
    const snapshot = durable.snapshot;
    const snapshotIndex = snapshot?.meta.index ?? 0;
    const entries = [...durable.entries];
    for (let k = 1; k < entries.length; k++) {
      if (entries[k]!.index !== entries[k - 1]!.index + 1) {
        throw new Error(
          `durable log has a gap between index ${entries[k - 1]!.index} and ${entries[k]!.index}`,
        );
      }
    }
    if (entries.length > 0) {
      const first = entries[0]!.index;
      const last = entries[entries.length - 1]!.index;
      if (first > snapshotIndex + 1 || last < snapshotIndex) {
        throw new Error(
          `durable log [${first}, ${last}] does not connect to the snapshot at index ${snapshotIndex}`,
        );
      }
    }
    this.#entries = entries;
    this.#snapshot = snapshot;
    this.#compactedIndex = entries.length > 0 ? entries[0]!.index - 1 : snapshotIndex;
    this.#compactedTerm = this.#compactedIndex === snapshotIndex ? (snapshot?.meta.term ?? 0) : -1;
    this.commit = Math.max(durable.hardState.commit, snapshotIndex);
    if (this.commit > this.lastIndex()) {
      throw new Error(`durable commit index ${this.commit} is beyond the last log index ${this.lastIndex()}`);
    }
    this.applied = snapshotIndex;
    this.persistedIndex = this.lastIndex();
    this.unstableFrom = this.lastIndex() + 1;
  }

  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  firstIndex(): number {
    return this.#compactedIndex + 1;
  }

  lastIndex(): number {
    return this.#compactedIndex + this.#entries.length;
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    if (term === undefined) throw new Error(`term of last index ${this.lastIndex()} is unknown`);
    return term;
  }

  /** Term of the entry at `index`, or undefined when it is compacted away or not yet in the log. */
  term(index: number): number | undefined {
    if (index === this.#compactedIndex) return this.#compactedTerm >= 0 ? this.#compactedTerm : undefined;
    if (this.#snapshot !== null && index === this.#snapshot.meta.index) return this.#snapshot.meta.term;
    if (index < this.#compactedIndex || index > this.lastIndex()) return undefined;
    return this.#entries[index - this.#compactedIndex - 1]!.term;
  }

  entry(index: number): Entry | undefined {
    if (index <= this.#compactedIndex || index > this.lastIndex()) return undefined;
    return this.#entries[index - this.#compactedIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft's election restriction: is a log ending at (lastIndex, lastTerm) at least as up to date as this one? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ownTerm = this.lastTerm();
    return lastTerm > ownTerm || (lastTerm === ownTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries from `from` to `to` inclusive, stopping early once `maxBytes` is reached (at least one
   * entry is returned when the range is not empty) or `maxCount` entries are taken.
   */
  slice(from: number, to: number, maxBytes: number, maxCount: number): Entry[] {
    if (from <= this.#compactedIndex)
      throw new Error(`slice from ${from} reaches compacted index ${this.#compactedIndex}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = from; index <= Math.min(to, this.lastIndex()) && out.length < maxCount; index++) {
      const entry = this.#entries[index - this.#compactedIndex - 1]!;
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /** Appends entries that continue the log exactly (used by the leader for its own proposals). */
  append(entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.lastIndex() + 1) {
        throw new Error(`append of index ${entry.index} does not follow last index ${this.lastIndex()}`);
      }
      this.#entries.push(entry);
    }
  }

  /**
   * Index of the first entry in `entries` whose term conflicts with this log, or of the first
   * entry beyond this log; 0 when every entry is already present. Matching entries are never
   * touched, which makes stale and duplicated appends harmless.
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      const term = this.term(entry.index);
      if (term === undefined && entry.index <= this.#compactedIndex) continue;
      if (term !== entry.term) return entry.index;
    }
    return 0;
  }

  /**
   * Largest index <= `index` whose term is <= `term`, with that term. Used by both sides of a
   * rejected append to skip a whole term of mismatching entries per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let at = Math.min(index, this.lastIndex());
    for (;;) {
      const atTerm = this.term(at);
      if (atTerm === undefined) return { index: at, term: 0 };
      if (atTerm <= term) return { index: at, term: atTerm };
      at--;
    }
  }

  /** Replaces the suffix from `entries[0].index` on with `entries`. Returns the lowest index removed, or 0. */
  truncateAndAppend(entries: readonly Entry[]): number {
    if (entries.length === 0) return 0;
    const from = entries[0]!.index;
    if (from <= this.commit) {
      throw new Error(`refusing to overwrite committed entry ${from} (commit ${this.commit})`);
    }
    if (from > this.lastIndex() + 1) {
      throw new Error(`append at index ${from} leaves a gap after last index ${this.lastIndex()}`);
    }
    let removed = 0;
    if (from <= this.lastIndex()) {
      removed = from;
      this.#entries.length = from - this.#compactedIndex - 1;
      this.persistedIndex = Math.min(this.persistedIndex, from - 1);
    }
    this.unstableFrom = Math.min(this.unstableFrom, from);
    this.append(entries);
    return removed;
  }

  commitTo(index: number): boolean {
    if (index <= this.commit) return false;
    if (index > this.lastIndex()) {
      throw new Error(`commit index ${index} is beyond the last log index ${this.lastIndex()}`);
    }
    this.commit = index;
    return true;
  }

  /** Entries that are committed, durable here and not yet handed to the application. */
  nextCommitted(after: number, maxBytes: number): Entry[] {
    const to = Math.min(this.commit, this.persistedIndex);
    if (to <= after) return [];
    return this.slice(after + 1, to, maxBytes, Number.MAX_SAFE_INTEGER);
  }

  /** Entries not yet durable, from `unstableFrom` to the end. */
  unstableEntries(): Entry[] {
    if (this.unstableFrom > this.lastIndex()) return [];
    return this.#entries.slice(this.unstableFrom - this.#compactedIndex - 1);
  }

  /**
   * Records that storage contains the entries of a finished batch, which ended at `index`.
   * A truncation since the batch was taken has lowered `unstableFrom`, and entries from there on
   * were replaced in memory, so only the part below it counts as durable. This is what keeps an
   * acknowledgement of overwritten entries from marking their replacements durable.
   */
  markPersisted(index: number): void {
    this.persistedIndex = Math.max(this.persistedIndex, Math.min(index, this.unstableFrom - 1));
  }

  /** Marks the batch in flight as taken: entries up to `index` no longer need writing. */
  markWriting(index: number): void {
    this.unstableFrom = Math.max(this.unstableFrom, index + 1);
  }

  /**
   * Installs a snapshot received from the leader whose last entry does not match this log:
   * the whole log is discarded and the snapshot becomes its base.
   */
  restore(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    this.#snapshot = snapshot;
    this.#entries = [];
    this.#compactedIndex = index;
    this.#compactedTerm = term;
    this.commit = index;
    this.applied = index;
    this.persistedIndex = index;
    this.unstableFrom = index + 1;
  }

  /** Adopts a snapshot whose last entry this log holds: entries up to `compactTo` are dropped. */
  compact(snapshot: Snapshot, compactTo: number): void {
    if (snapshot.meta.index > this.applied) {
      throw new Error(`snapshot index ${snapshot.meta.index} is beyond the applied index ${this.applied}`);
    }
    this.#snapshot = snapshot;
    if (compactTo <= this.#compactedIndex) return;
    const term = this.term(compactTo);
    this.#entries = this.#entries.slice(compactTo - this.#compactedIndex);
    this.#compactedIndex = compactTo;
    this.#compactedTerm = term ?? -1;
  }
}
