import type { Entry, HardState, Membership, PersistBatch, Snapshot } from '../types.js';

/**
 * Summary of a storage's durable state, kept in memory so that a batch can be checked and applied
 * without reading from disk.
 *
 * The stored log is `firstIndex .. lastIndex`, contiguous. It may start at or below the snapshot
 * index, because compaction can keep trailing entries below a snapshot for followers that lag a
 * little. Invariant: when the log is not empty, `firstIndex <= snapshotIndex + 1` and
 * `lastIndex >= snapshotIndex`, so the log always reaches the snapshot.
 */
export interface LogBounds {
  /** Index of the first stored entry, or `lastIndex + 1` when the log is empty. */
  readonly firstIndex: number;
  /** Index covered by the stored snapshot, 0 when there is none. */
  readonly snapshotIndex: number;
  /** Index of the last stored entry, or `snapshotIndex` when the log is empty. */
  readonly lastIndex: number;
  readonly hardState: HardState;
}

/** Inclusive range of log indexes. */
export interface IndexRange {
  readonly from: number;
  readonly to: number;
}

/** The effect of one valid batch on the stored log. Both storages apply a plan the same way. */
export interface BatchPlan {
  /** Stored entries that compaction deletes, or null. */
  readonly compacted: IndexRange | null;
  /** Stored entries that truncation deletes and `entries` do not overwrite, or null. */
  readonly truncated: IndexRange | null;
  /** Bounds once the batch is durable. */
  readonly bounds: LogBounds;
  /** True when the batch changes nothing, so no write is needed. */
  readonly empty: boolean;
}

/** Rule that an invalid batch breaks, found in the thrown Error's `cause.rule`. */
export type BatchRule =
  | 'snapshot-invalid'
  | 'snapshot-not-newer'
  | 'compact-beyond-snapshot'
  | 'log-behind-snapshot'
  | 'truncate-at-snapshot'
  | 'truncate-committed'
  | 'truncate-beyond-log'
  | 'entry-invalid'
  | 'entries-not-contiguous'
  | 'entry-term-decreasing'
  | 'entries-not-following'
  | 'hard-state-invalid'
  | 'term-decreasing'
  | 'vote-changed'
  | 'commit-decreasing'
  | 'commit-beyond-log';

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

export const EMPTY_BOUNDS: LogBounds = {
  firstIndex: 1,
  snapshotIndex: 0,
  lastIndex: 0,
  hardState: EMPTY_HARD_STATE,
};

/**
 * Checks `batch` against the stored `bounds` and returns what it deletes and the bounds after it.
 *
 * A batch that breaks a rule is a bug in the consensus core, so this throws a plain Error that
 * names the values, with `cause: { rule }`. Rules beyond the order of writes in `PersistBatch`:
 * - a snapshot's index is above the stored snapshot's;
 * - `compactTo` is at most the snapshot index, and entries that survive compaction reach the
 *   snapshot index, so that no hole opens between the log and the snapshot;
 * - `truncateFrom` is above the snapshot index and the stored commit index, and at most one past
 *   the last index;
 * - entries are contiguous, with non-decreasing terms, and start right after the log that remains;
 * - the hard state's term never decreases, its vote changes within a term only from 0, its commit
 *   index never decreases and never passes the last index.
 */
export function planBatch(bounds: LogBounds, batch: PersistBatch): BatchPlan {
  const stored = bounds.hardState;
  const snapshotIndex = checkSnapshot(bounds, batch.snapshot);

  const compactTo = batch.compactTo;
  if (compactTo !== null) {
    checkIndex(compactTo, 'compactTo', 'compact-beyond-snapshot', 0);
    if (compactTo > snapshotIndex) {
      fail(
        'compact-beyond-snapshot',
        `cannot compact the log to index ${compactTo}: entries above snapshot index ${snapshotIndex} ` +
          'are not covered by any snapshot; compact only up to the snapshot index',
      );
    }
  }

  // Stored entries left by compaction are firstKept..bounds.lastIndex, when that range is not empty.
  const firstKept = Math.max(bounds.firstIndex, (compactTo ?? 0) + 1);
  const keepsEntries = firstKept <= bounds.lastIndex;
  if (keepsEntries && bounds.lastIndex < snapshotIndex) {
    fail(
      'log-behind-snapshot',
      `batch keeps entries ${firstKept}..${bounds.lastIndex}, which end below snapshot index ${snapshotIndex}; ` +
        `set compactTo to at least ${bounds.lastIndex} in the batch that carries the snapshot`,
    );
  }
  const lastAfterCompaction = Math.max(bounds.lastIndex, snapshotIndex);
  const firstAfterCompaction = keepsEntries ? firstKept : lastAfterCompaction + 1;

  const truncateFrom = batch.truncateFrom;
  let lastKept = lastAfterCompaction;
  if (truncateFrom !== null) {
    checkIndex(truncateFrom, 'truncateFrom', 'truncate-at-snapshot', 1);
    if (truncateFrom <= snapshotIndex) {
      fail(
        'truncate-at-snapshot',
        `cannot truncate the log from index ${truncateFrom}: it is at or below snapshot index ${snapshotIndex}`,
      );
    }
    if (truncateFrom <= stored.commit) {
      fail(
        'truncate-committed',
        `cannot truncate the log from index ${truncateFrom}: entries up to the commit index ${stored.commit} ` +
          'are committed and must never be removed',
      );
    }
    if (truncateFrom > lastAfterCompaction + 1) {
      fail(
        'truncate-beyond-log',
        `cannot truncate the log from index ${truncateFrom}: the log ends at ${lastAfterCompaction}, ` +
          `so truncateFrom must be at most ${lastAfterCompaction + 1}`,
      );
    }
    lastKept = truncateFrom - 1;
  }

  const lastIndex = checkEntries(batch.entries, lastKept, truncateFrom);

  const hardState = batch.hardState;
  if (hardState !== null) checkHardState(stored, hardState, lastIndex);

  const compactedTo = Math.min(bounds.lastIndex, compactTo ?? 0);
  const compacted: IndexRange | null =
    bounds.firstIndex <= compactedTo ? { from: bounds.firstIndex, to: compactedTo } : null;
  // Truncation never reaches compacted entries, because truncateFrom is above the snapshot index
  // and compactTo is at most the snapshot index.
  const truncatedFrom = Math.max(
    truncateFrom ?? Number.POSITIVE_INFINITY,
    lastIndex + 1,
    firstAfterCompaction,
  );
  const truncated: IndexRange | null =
    truncatedFrom <= bounds.lastIndex ? { from: truncatedFrom, to: bounds.lastIndex } : null;

  const empty =
    batch.snapshot === null &&
    compacted === null &&
    truncated === null &&
    batch.entries.length === 0 &&
    hardState === null;

  return {
    compacted,
    truncated,
    bounds: {
      firstIndex: Math.min(firstAfterCompaction, lastKept + 1),
      snapshotIndex,
      lastIndex,
      hardState: hardState ?? stored,
    },
    empty,
  };
}

/** Returns the snapshot index after the batch. */
function checkSnapshot(bounds: LogBounds, snapshot: Snapshot | null): number {
  if (snapshot === null) return bounds.snapshotIndex;

  const { index, term, membership } = snapshot.meta;
  checkIndex(index, 'snapshot.meta.index', 'snapshot-invalid', 1);
  checkIndex(term, 'snapshot.meta.term', 'snapshot-invalid', 1);
  if (!isMembership(membership)) {
    fail('snapshot-invalid', `snapshot ${index} has an invalid membership: ${MEMBERSHIP_SHAPE}`);
  }
  if (!(snapshot.data instanceof Uint8Array)) {
    fail('snapshot-invalid', `snapshot ${index} has data that is not a Uint8Array`);
  }
  if (index <= bounds.snapshotIndex) {
    fail(
      'snapshot-not-newer',
      `snapshot index ${index} is not above the stored snapshot index ${bounds.snapshotIndex}`,
    );
  }
  return index;
}

/** Returns the last index after the entries are written after `lastKept`. */
function checkEntries(entries: readonly Entry[], lastKept: number, truncateFrom: number | null): number {
  if (entries.length === 0) return lastKept;

  const first = entries[0]!;
  let previous: Entry | null = null;
  for (const entry of entries) {
    checkEntry(entry);
    if (previous !== null) {
      if (entry.index !== previous.index + 1) {
        fail(
          'entries-not-contiguous',
          `entries are not contiguous: index ${entry.index} follows index ${previous.index}`,
        );
      }
      if (entry.term < previous.term) {
        fail(
          'entry-term-decreasing',
          `entry ${entry.index} has term ${entry.term}, below term ${previous.term} of entry ${previous.index}`,
        );
      }
    }
    previous = entry;
  }

  if (first.index !== lastKept + 1) {
    const hint =
      truncateFrom === null
        ? 'set truncateFrom to the first index to overwrite'
        : `truncateFrom is ${truncateFrom}, so the entries must start there`;
    fail(
      'entries-not-following',
      `entries start at index ${first.index}, but the log kept by this batch ends at ${lastKept}; ${hint}`,
    );
  }
  return previous!.index;
}

function checkEntry(entry: Entry): void {
  checkIndex(entry.index, 'entry index', 'entry-invalid', 1);
  checkIndex(entry.term, `term of entry ${entry.index}`, 'entry-invalid', 1);
  switch (entry.kind) {
    case 'noop':
      return;
    case 'command':
      if (!(entry.data instanceof Uint8Array)) {
        fail('entry-invalid', `command entry ${entry.index} has data that is not a Uint8Array`);
      }
      return;
    case 'config':
      if (!isMembership(entry.membership)) {
        fail('entry-invalid', `config entry ${entry.index} has an invalid membership: ${MEMBERSHIP_SHAPE}`);
      }
      return;
    default:
      fail(
        'entry-invalid',
        `entry ${(entry as Entry).index} has unknown kind ${String((entry as Entry).kind)}`,
      );
  }
}

function checkHardState(stored: HardState, next: HardState, lastIndex: number): void {
  checkIndex(next.term, 'hardState.term', 'hard-state-invalid', 0);
  checkIndex(next.vote, 'hardState.vote', 'hard-state-invalid', 0);
  checkIndex(next.commit, 'hardState.commit', 'hard-state-invalid', 0);

  if (next.term < stored.term) {
    fail('term-decreasing', `hard state term ${next.term} is below the stored term ${stored.term}`);
  }
  if (next.term === stored.term && stored.vote !== 0 && next.vote !== stored.vote) {
    fail(
      'vote-changed',
      `vote changed from ${stored.vote} to ${next.vote} within term ${next.term}; ` +
        'a vote may change only together with the term',
    );
  }
  if (next.commit < stored.commit) {
    fail(
      'commit-decreasing',
      `commit index ${next.commit} is below the stored commit index ${stored.commit}`,
    );
  }
  if (next.commit > lastIndex) {
    fail(
      'commit-beyond-log',
      `commit index ${next.commit} is above the last index ${lastIndex} that the batch leaves in the log`,
    );
  }
}

function checkIndex(value: number, name: string, rule: BatchRule, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    fail(rule, `${name} must be an integer of at least ${min}, got ${String(value)}`);
  }
}

const MEMBERSHIP_SHAPE = 'voters, learners and removed must be arrays of node ids';

/** Tells whether `value` has the shape of a Membership: three arrays of safe integers. */
export function isMembership(value: unknown): value is Membership {
  if (typeof value !== 'object' || value === null) return false;
  const { voters, learners, removed } = value as Record<string, unknown>;
  return isIdList(voters) && isIdList(learners) && isIdList(removed);
}

function isIdList(value: unknown): boolean {
  return Array.isArray(value) && value.every((id) => Number.isSafeInteger(id) && id >= 0);
}

function fail(rule: BatchRule, message: string): never {
  throw new Error(`invalid PersistBatch: ${message}`, { cause: { rule } });
}
