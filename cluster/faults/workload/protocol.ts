/** Messages between the fault runner and its load process, over the IPC channel of fork(). */
import type { JobWorkloadConfig } from './jobs-log.js';

/** The load process's configuration, the runner's first message to it. */
export interface WorkloadConfig {
  readonly seed: number;
  /** monotonicNs() of the runner at its start, as a decimal string (a bigint does not survive JSON). */
  readonly originNs: string;
  /** `host:port` of every server's HTTP API; each call goes to one picked at random. */
  readonly addresses: readonly string[];
  readonly token: string | null;
  /** Concurrent clients. Each issues one call at a time. */
  readonly clients: number;
  /** Variables the clients read and write concurrently, as paths. */
  readonly registerKeys: readonly string[];
  /** Prefix of the write-once variables that the lost-write check reads back. */
  readonly ledgerPrefix: string;
  /** Target rate of calls over all clients, per second. */
  readonly ratePerSecond: number;
  readonly requestTimeoutMs: number;
  /** File the load process writes its history to when the runner stops it. */
  readonly historyFile: string;
  /** How often it reports its counts, in ms. */
  readonly progressIntervalMs: number;
  /** The job client's settings; without them the load runs no job client. */
  readonly jobs?: JobWorkloadConfig | undefined;
}

export interface OutcomeCounts {
  readonly operations: number;
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
}

export type WorkloadMessage =
  /** Sent once the load process listens for its configuration. */
  | { readonly type: 'ready' }
  | ({ readonly type: 'progress' } & OutcomeCounts)
  /** Sent once the history file is written; `nextId` is the first id not used in it. */
  | ({ readonly type: 'stopped'; readonly nextId: number; readonly nextProcess: number } & OutcomeCounts)
  | { readonly type: 'error'; readonly message: string };

export type RunnerMessage =
  | { readonly type: 'start'; readonly config: WorkloadConfig }
  | { readonly type: 'stop' };
