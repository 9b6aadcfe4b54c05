import type { DurableState, Membership, NodeId } from '../../raft/types.js';
import { SnapshotError } from '../../state/errors.js';
import { StateStore } from '../../state/store.js';
import { RecoverError } from './recover-error.js';

/** The state machine rebuilt from a server's own snapshot and log. */
export interface ReplayedLog {
  readonly store: StateStore;
  /** Index of the last entry in the log, or of the snapshot when the log is empty (0 for neither). */
  readonly lastIndex: number;
  /** Entries applied on top of the snapshot. */
  readonly entriesApplied: number;
  /**
   * Applied entries above the stored commit index. The lost cluster may never have committed
   * them, and a server with a newer log may hold other entries at those indexes.
   */
  readonly entriesAboveCommit: number;
}

/** Index and term of the last entry that a durable state holds, the pair Raft orders logs by. */
export interface LogPosition {
  readonly index: number;
  readonly term: number;
}

/** Returns the last entry's index and term, else the snapshot's, else zeros for an empty folder. */
export function lastLogPosition(durable: DurableState): LogPosition {
  const last = durable.entries.at(-1);
  const snapshot = durable.snapshot?.meta;
  if (last !== undefined && last.index >= (snapshot?.index ?? 0))
    return { index: last.index, term: last.term };
  if (snapshot !== undefined) return { index: snapshot.index, term: snapshot.term };
  return { index: 0, term: 0 };
}

/** The servers that a durable state names. */
export interface StoredMembers {
  /** Every server id that the snapshot's or any configuration entry's membership names. */
  readonly ids: ReadonlySet<NodeId>;
  /** The membership of the last configuration entry, else the snapshot's; null for neither. */
  readonly latest: Membership | null;
}

/** Collects the server ids of every membership in a durable state, and the latest membership. */
export function storedMembers(durable: DurableState): StoredMembers {
  const ids = new Set<NodeId>();
  let latest: Membership | null = null;
  if (durable.snapshot !== null) {
    latest = durable.snapshot.meta.membership;
    addMembers(ids, latest);
  }
  const snapshotIndex = durable.snapshot?.meta.index ?? 0;
  for (const entry of durable.entries) {
    if (entry.kind !== 'config') continue;
    addMembers(ids, entry.membership);
    if (entry.index > snapshotIndex) latest = entry.membership;
  }
  return { ids, latest };
}

/**
 * Restores the stored snapshot and applies every entry after it, committed or not, as
 * hashicorp/raft's RecoverCluster does. The entries on this server are the best record left of
 * what the lost cluster committed, because its commit index on disk can lag the leader's. Throws RecoverError
 * UNREADABLE_STATE when the snapshot or a command does not decode, which means a newer Signet
 * wrote it. `path` names the Raft folder in errors.
 */
export function replayDurableState(durable: DurableState, path: string): ReplayedLog {
  const store = new StateStore();
  const snapshotIndex = durable.snapshot?.meta.index ?? 0;

  if (durable.snapshot !== null) {
    try {
      store.restore(durable.snapshot.data);
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      throw new RecoverError(
        'UNREADABLE_STATE',
        path,
        `cannot read the stored snapshot at index ${snapshotIndex} in ${path}: ${err.message}; run recover with the Signet release that wrote it`,
        { index: snapshotIndex, cause: err },
      );
    }
  }

  let entriesApplied = 0;
  let entriesAboveCommit = 0;
  for (const entry of durable.entries) {
    // Compaction keeps some entries below the snapshot; the snapshot already contains them.
    if (entry.index <= snapshotIndex) continue;
    entriesApplied++;
    if (entry.index > durable.hardState.commit) entriesAboveCommit++;
    if (entry.kind !== 'command') {
      store.advanceTo(entry.index);
      continue;
    }
    const result = store.apply(entry.index, entry.data);
    // A command that the state rejects (a failed check-and-set) was rejected on every server too.
    // A command that this build cannot decode would make the state differ from the cluster's.
    if (!result.ok && result.reason === 'undecodable') {
      throw new RecoverError(
        'UNREADABLE_STATE',
        path,
        `cannot apply log entry ${entry.index} in ${path}: ${result.message}; run recover with the Signet release that wrote it`,
        { index: entry.index },
      );
    }
  }

  const lastIndex = Math.max(snapshotIndex, durable.entries.at(-1)?.index ?? 0);
  return { store, lastIndex, entriesApplied, entriesAboveCommit };
}

function addMembers(ids: Set<NodeId>, membership: Membership): void {
  for (const id of [...membership.voters, ...membership.learners, ...membership.removed]) ids.add(id);
}
