import type { NodeId, RandomInt } from './types.js';

/** Options of one consensus core. Times are in ticks; the driver decides how long a tick lasts. */
export interface RaftOptions {
  readonly id: NodeId;
  /** Injected randomness, used only to randomise election timeouts. */
  readonly random: RandomInt;
  /** Base election timeout. Each term a follower waits a random time in [electionTicks, 2 * electionTicks). */
  readonly electionTicks?: number;
  /** Interval between leader heartbeats. Must be smaller than electionTicks. */
  readonly heartbeatTicks?: number;
  /** Run a PreVote round before bumping the term, so a rejoining server cannot disrupt a healthy leader. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  readonly checkQuorum?: boolean;
  /** Maximum append requests in flight to one follower in the replicate state. */
  readonly maxInflightAppends?: number;
  /** Maximum bytes of entries in flight to one follower. */
  readonly maxInflightBytes?: number;
  /** Maximum bytes of entries in one append request (at least one entry is always sent). */
  readonly maxAppendBytes?: number;
  /** Maximum size of one proposed command in bytes; larger proposals are dropped. At most maxAppendBytes. */
  readonly maxEntryBytes?: number;
  /** Maximum entries in one append request. */
  readonly maxAppendEntries?: number;
  /** A leader drops proposals while its uncommitted entries exceed this many bytes. */
  readonly maxUncommittedBytes?: number;
  /** Size of one InstallSnapshot chunk in bytes. */
  readonly snapshotChunkBytes?: number;
  /** Entries kept below a new snapshot, so a slightly lagging follower catches up without a snapshot. */
  readonly snapshotTrailingEntries?: number;
  /** A leadership transfer that has not completed after this many ticks is aborted. */
  readonly transferTimeoutTicks?: number;
}

export type ResolvedRaftOptions = Required<RaftOptions>;

/**
 * Defaults. Ticks follow etcd (heartbeat 1 tick, election 10 ticks); the small in-flight window
 * follows hashicorp/raft's experience that deep pipelines raise latency.
 */
export const RAFT_DEFAULTS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxInflightAppends: 4,
  maxInflightBytes: 4 * 1024 * 1024,
  maxAppendBytes: 1024 * 1024,
  maxEntryBytes: 1024 * 1024,
  maxAppendEntries: 512,
  maxUncommittedBytes: 64 * 1024 * 1024,
  snapshotChunkBytes: 512 * 1024,
  snapshotTrailingEntries: 1024,
  transferTimeoutTicks: 10,
} as const;

/** Fills defaults and rejects inconsistent options with a message that names the field. */
export function resolveRaftOptions(options: RaftOptions): ResolvedRaftOptions {
  const resolved: { -readonly [K in keyof ResolvedRaftOptions]: ResolvedRaftOptions[K] } = {
    ...RAFT_DEFAULTS,
    ...stripUndefined(options),
    id: options.id,
    random: options.random,
  };
  // Unless set, the entry limit follows a smaller append limit, so every entry still fits in one append.
  if (options.maxEntryBytes === undefined) {
    resolved.maxEntryBytes = Math.min(RAFT_DEFAULTS.maxEntryBytes, resolved.maxAppendBytes);
  }

  if (typeof resolved.random !== 'function') {
    throw new Error(
      `invalid raft option random=${String(resolved.random)}: expected a function (bound) => integer`,
    );
  }
  for (const field of ['preVote', 'checkQuorum'] as const) {
    if (typeof resolved[field] !== 'boolean') {
      throw new Error(
        `invalid raft option ${field}=${JSON.stringify(resolved[field])}: expected true or false`,
      );
    }
  }
  if (!Number.isSafeInteger(resolved.id) || resolved.id <= 0) {
    throw new Error(`invalid raft option id=${resolved.id}: node ids are positive integers`);
  }
  for (const field of [
    'electionTicks',
    'heartbeatTicks',
    'maxInflightAppends',
    'maxInflightBytes',
    'maxAppendBytes',
    'maxEntryBytes',
    'maxAppendEntries',
    'maxUncommittedBytes',
    'snapshotChunkBytes',
    'transferTimeoutTicks',
  ] as const) {
    const value = resolved[field];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`invalid raft option ${field}=${value}: expected a positive integer`);
    }
  }
  if (!Number.isSafeInteger(resolved.snapshotTrailingEntries) || resolved.snapshotTrailingEntries < 0) {
    throw new Error(
      `invalid raft option snapshotTrailingEntries=${resolved.snapshotTrailingEntries}: expected an integer >= 0`,
    );
  }
  if (resolved.maxEntryBytes > resolved.maxAppendBytes) {
    throw new Error(
      `invalid raft options: maxEntryBytes=${resolved.maxEntryBytes} must not exceed maxAppendBytes=${resolved.maxAppendBytes}, so every entry fits in one append`,
    );
  }
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new Error(
      `invalid raft options: heartbeatTicks=${resolved.heartbeatTicks} must be smaller than electionTicks=${resolved.electionTicks}`,
    );
  }
  return resolved;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
