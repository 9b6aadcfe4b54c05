import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from '../cluster/scenarios/common.js';
import { RAFT_DEFAULTS } from '../src/raft/config.js';
import { AGENT_DEFAULTS } from '../src/server/agent-config.js';
import { ensureEtcd } from './etcd/install.js';
import { type EtcdTrial, measureEtcdFailover } from './failover/etcd-failover.js';
import { type FailoverSizes, measureSignetFailover, type SignetTrial } from './failover/signet-failover.js';
import type { BenchContext, Benchmark } from './harness/benchmark.js';
import { type BenchRow, makeRow } from './harness/row.js';

const FULL_SIZES: FailoverSizes = { trials: 20, nodes: 5 };
const QUICK_SIZES: FailoverSizes = { trials: 2, nodes: 2 };

/** Signet's base election timeout: electionTicks at the agent's tick length, raft_multiplier 1. */
const ELECTION_TIMEOUT_MS = RAFT_DEFAULTS.electionTicks * AGENT_DEFAULTS.raftTickMs;
const TIMING = `election timeout ${RAFT_DEFAULTS.electionTicks} ticks × ${AGENT_DEFAULTS.raftTickMs} ms, drawn in [1×, 2×)`;

function ms(value: number | null): string {
  return value === null ? '?' : `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** Median of the values that the logs gave, or null when none did. */
function medianOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : summarize(known).median;
}

/** Median time of each step after the kill, so a reader sees where a slow takeover spends its time. */
function describeSteps(trials: readonly SignetTrial[]): string {
  return [
    `median steps after the kill: PreVote ${ms(medianOf(trials.map((t) => t.campaignMs)))}`,
    `elected ${ms(medianOf(trials.map((t) => t.electedMs)))}`,
    `leader services ${ms(medianOf(trials.map((t) => t.servicesMs)))}`,
    `allocation planned ${ms(medianOf(trials.map((t) => t.allocCreatedMs)))}`,
    `signed and committed ${ms(medianOf(trials.map((t) => t.signedMs)))}`,
  ].join(', ');
}

/** etcd's trials and version, or a sentence saying why etcd was not measured. */
export type EtcdFailover = { readonly version: string; readonly trials: readonly EtcdTrial[] } | string;

/** Rows of the failover figures. The first row carries every trial in its raw numbers. */
export function failoverRows(signet: readonly SignetTrial[], etcd: EtcdFailover): BenchRow[] {
  const n = signet.length;
  const signed = summarize(signet.map((trial) => trial.signedMs));
  const elected = summarize(signet.map((trial) => trial.leaderMs));
  const etcdLeader = typeof etcd === 'string' ? null : summarize(etcd.trials.map((trial) => trial.leaderMs));
  const etcdNote = typeof etcd === 'string' ? etcd : null;
  const referenceName =
    typeof etcd === 'string'
      ? "etcd's time to a new leader after the same kill"
      : `etcd ${etcd.version}, SIGKILL to a new leader, median of ${etcd.trials.length}`;
  const raw = { signet, etcd, electionTimeoutMs: ELECTION_TIMEOUT_MS, tickMs: AGENT_DEFAULTS.raftTickMs };
  const summaries = { signed, elected, etcd: etcdLeader };
  return [
    makeRow({
      figure: `leader SIGKILL to first identity signed by the new leader, median of ${n} trials`,
      unit: 'ms',
      signet: signed.median,
      reference: etcdLeader?.median ?? null,
      referenceName,
      target: { kind: 'ratio-at-most', value: 1, label: "median ≤ etcd's" },
      note: etcdNote ?? describeSteps(signet),
      raw,
    }),
    makeRow({
      figure: `leader SIGKILL to first identity signed by the new leader, worst of ${n} trials`,
      unit: 'ms',
      signet: signed.max,
      reference: 2 * ELECTION_TIMEOUT_MS,
      referenceName: '2× the election timeout',
      target: { kind: 'below', value: 2 * ELECTION_TIMEOUT_MS, label: '< 2× election timeout' },
      note: `${TIMING}; etcd's worst ${etcdLeader === null ? 'not measured' : ms(etcdLeader.max)}`,
      raw: summaries,
    }),
    makeRow({
      figure: `leader SIGKILL to a new leader reported by a survivor, median of ${n} trials`,
      unit: 'ms',
      signet: elected.median,
      reference: etcdLeader?.median ?? null,
      referenceName,
      note:
        etcdNote ?? `worst ${ms(elected.max)} (etcd ${ms(etcdLeader?.max ?? null)}); the same poll for both`,
      raw: summaries,
    }),
  ];
}

async function measure(context: BenchContext, sizes: FailoverSizes, root: string): Promise<BenchRow[]> {
  context.progress(
    `Signet: ${sizes.trials} trials, 3 servers (fsync on, ACLs on), ${sizes.nodes} simulated nodes`,
  );
  const signet = await measureSignetFailover(sizes, root, (message) => context.progress(message));
  context.progress(
    `Signet: the load process registered ${signet.load.registered} jobs; failed attempts ${JSON.stringify(signet.load.failures)}`,
  );
  let etcd: EtcdFailover = 'not measured (--no-etcd)';
  if (context.etcd) {
    const binary = ensureEtcd((message) => context.progress(message));
    if (typeof binary === 'string') {
      etcd = binary;
    } else {
      context.progress(`etcd ${binary.version}: ${sizes.trials} trials, 3 members`);
      const trials = await measureEtcdFailover(sizes.trials, root, (message) => context.progress(message));
      etcd = { version: binary.version, trials };
    }
  }
  return failoverRows(signet.trials, etcd);
}

/**
 * Failover: SIGKILL the leader of 3 Signet servers while jobs are registered, and time the first
 * workload identity that the new leader signs. The reference is etcd's time to a new leader after
 * the same kill. Both clusters restart the killed member and wait for it between trials.
 */
export const failoverBenchmark: Benchmark = {
  name: 'failover',
  description: 'leader SIGKILL to the first identity signed by the new leader, against etcd',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    const root = await mkdtemp(join(tmpdir(), 'signet-bench-failover-'));
    let rows: BenchRow[];
    try {
      rows = await measure(context, sizes, root);
    } catch (err) {
      // The agents' logs show why a takeover or a catch-up stalled.
      if (err instanceof Error) err.message += ` (server folders and logs kept in ${root})`;
      throw err;
    }
    await rm(root, { recursive: true, force: true });
    return rows;
  },
};
