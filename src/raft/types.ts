/**
 * Data types shared by the consensus core, its storage and its driver.
 * Terms and indexes are JS numbers: they stay exact up to 2^53, far beyond any real log.
 */

/** Server id. Ids are assigned once and never reused after a server is removed. */
export type NodeId = number;

/** Membership: voters decide elections and commits; learners only receive the log. */
export interface Membership {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Ids removed at any time in the past. A removed id is never admitted again. */
  readonly removed: readonly NodeId[];
}

/** One change of membership. Signet changes one server at a time. */
export type MembershipChange =
  | { readonly type: 'add-learner'; readonly nodeId: NodeId }
  | { readonly type: 'promote'; readonly nodeId: NodeId }
  | { readonly type: 'remove'; readonly nodeId: NodeId };

interface EntryHeader {
  readonly term: number;
  readonly index: number;
}

/** A leader appends a no-op when it takes office, so that it can commit older entries. */
export interface NoopEntry extends EntryHeader {
  readonly kind: 'noop';
}

/** An application command, opaque to the core. */
export interface CommandEntry extends EntryHeader {
  readonly kind: 'command';
  readonly data: Uint8Array;
}

/** The full membership that takes effect as soon as the entry is appended to a log. */
export interface ConfigEntry extends EntryHeader {
  readonly kind: 'config';
  readonly membership: Membership;
}

export type Entry = NoopEntry | CommandEntry | ConfigEntry;

/** State that must be durable before any message that depends on it leaves the server. */
export interface HardState {
  readonly term: number;
  /** Candidate voted for in `term`, or 0 for none. Set at most once per term, and reset only when `term` changes. */
  readonly vote: NodeId;
  readonly commit: number;
}

export interface SnapshotMeta {
  /** Index of the last entry that the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** Membership in force at `index`. */
  readonly membership: Membership;
}

/** A snapshot of the application state machine, with the log position it covers. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/**
 * Everything that the core needs to restart: what storage has made durable.
 * `entries` are the stored log entries in order, without gaps. They may start at or below the
 * snapshot's index, because compaction keeps some entries below a snapshot for followers that lag
 * a little, and when there are any, they reach at least to the snapshot's index.
 */
export interface DurableState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
}

/**
 * One batch of writes that storage must make durable, in this order, before the driver sends
 * the messages or applies the entries of the same ready batch:
 * 1. `snapshot`, when present, replaces the stored snapshot (written and synced first).
 * 2. Entries with index >= `truncateFrom` are deleted. Entries with index <= `compactTo` are deleted.
 * 3. `entries` are written (they start at `truncateFrom` when both are set).
 * 4. `hardState`, when present, replaces the stored hard state.
 * Steps 2 to 4 land atomically (one synced LevelDB batch).
 */
export interface PersistBatch {
  readonly snapshot: Snapshot | null;
  readonly truncateFrom: number | null;
  readonly compactTo: number | null;
  readonly entries: readonly Entry[];
  readonly hardState: HardState | null;
}

/** A linearizable read that may proceed once the state machine has applied `index`. */
export interface ReadState {
  readonly index: number;
  /** The id that the caller passed to `readIndex`. */
  readonly requestId: number;
}

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state that the driver may want to report; it changes without persistence. */
export interface SoftState {
  readonly role: Role;
  /** Known leader of the current term, or 0 for none. */
  readonly leaderId: NodeId;
}

/** Source of randomness injected into the core: returns an integer in [0, bound). */
export type RandomInt = (bound: number) => number;

export const NO_NODE: NodeId = 0;
