import type { RaftOptions } from '../../src/raft/raft.js';
import type { NetworkTiming } from './network.js';
import { Prng } from './prng.js';

/** Logical time units per tick. Message latencies are drawn in these units, so they fall between ticks. */
export const TICK = 100;

/** PRNG streams of one seed. A node's stream is `NODE_STREAM + id`, so it depends only on the seed and the id. */
export const STREAMS = { plan: 1, network: 2, faults: 3, workload: 4, schedule: 5 } as const;
export const NODE_STREAM = 1000;

/** What to simulate: the seed decides everything else. */
export interface SimConfig {
  readonly seed: number;
  /** Voters that found the cluster. */
  readonly servers: number;
  /** Steps of the fault phase. The liveness phase that follows has its own bound in ticks. */
  readonly steps: number;
  /** Receives one line per event when set (the CLI's --verbose). */
  readonly trace?: ((line: string) => void) | undefined;
}

export const DEFAULT_STEPS = 4000;

/** Parameters that the seed draws once, before the run starts. */
export interface SeedPlan {
  readonly raftOptions: Omit<RaftOptions, 'id' | 'random'>;
  readonly electionTicks: number;
  readonly timing: NetworkTiming;
  /** Applied entries between two application snapshots: small, so InstallSnapshot really happens. */
  readonly compactEvery: number;
  /** Range of ticks between two fault actions. */
  readonly faultEveryTicks: readonly [number, number];
  /** Range of time units between two client actions. */
  readonly clientEveryUnits: readonly [number, number];
  /** Servers that the workload may add beyond the founders. */
  readonly maxAddedServers: number;
  /** Ticks that the cluster gets after the faults end to elect a leader and apply every acknowledged write. */
  readonly livenessTicks: number;
  /** Whether servers send a leader's appends and heartbeats before persisting (`takeImmediateMessages`). */
  readonly sendsImmediately: boolean;
}

export function planSeed(seed: number): SeedPlan {
  const rng = new Prng(seed, STREAMS.plan);
  const electionTicks = rng.pick([6, 10, 10, 15]);
  const raftOptions: Omit<RaftOptions, 'id' | 'random'> = {
    electionTicks,
    heartbeatTicks: rng.pick([1, 1, 2]),
    preVote: !rng.chance(0.15),
    checkQuorum: !rng.chance(0.15),
    maxInflightAppends: rng.between(1, 4),
    maxInflightBytes: rng.pick([256, 4096, 1024 * 1024]),
    maxAppendBytes: rng.pick([64, 512, 64 * 1024]),
    maxAppendEntries: rng.pick([1, 3, 8, 64]),
    maxUncommittedBytes: rng.chance(0.3) ? rng.between(32, 512) : 64 * 1024,
    snapshotChunkBytes: rng.pick([16, 64, 200, 4096]),
    snapshotTrailingEntries: rng.between(0, 5),
    transferTimeoutTicks: electionTicks,
  };
  return {
    raftOptions,
    electionTicks,
    timing: {
      minLatency: 1,
      maxLatency: rng.pick([10, 50, 100, 200]),
      maxDelay: 3 * electionTicks * TICK,
    },
    compactEvery: rng.between(3, 40),
    faultEveryTicks: [2, rng.between(5, 30)],
    clientEveryUnits: [10, rng.between(50, 300)],
    maxAddedServers: rng.between(0, 4),
    livenessTicks: 40 * electionTicks,
    // Drawn last, so the draws above stay what they were before this option existed.
    sendsImmediately: rng.chance(0.5),
  };
}
