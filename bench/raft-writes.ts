import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitAddress } from '../cluster/http-client.js';
import { Cluster } from '../cluster/launcher.js';
import { EtcdCluster } from './etcd/etcd-cluster.js';
import { ensureEtcd } from './etcd/install.js';
import type { BenchContext, Benchmark } from './harness/benchmark.js';
import { type BenchRow, makeRow } from './harness/row.js';
import { meansBetween, type RaftMeans, readRaftSums } from './leader-metrics.js';
import { type LatencySummary, runChild } from './load/child.js';
import type { HttpWriterConfig, HttpWriterResult } from './load/http-writer.js';

/**
 * Raft writes through the HTTP API of a 3-server Signet cluster: separate processes, fsync on and
 * ACLs on, each write a `PUT /v1/var/:path` with the management token. The reference is a
 * 3-member etcd cluster taking the same writes on its HTTP/JSON gateway (`POST /v3/kv/put`) at the
 * same concurrency. Both are aimed at their leader, and each write carries a new key and a value
 * of VALUE_BYTES. The load generator is a child process. Commit latency at one writer is compared
 * with one write+fsync of VALUE_BYTES in the same temporary folder, so on the same disk as both
 * clusters' data.
 */
const VALUE_BYTES = 128;
const WRITERS = [1, 16, 64] as const;
/** Concurrencies with throughput and p99 targets against etcd; at one writer the figures are only reported. */
const TARGET_WRITERS = new Set<number>([16, 64]);
const COMMIT_TARGET_FSYNCS = 4;

interface Durations {
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly fsyncMs: number;
}

const FULL: Durations = { warmupMs: 1_000, durationMs: 8_000, fsyncMs: 4_000 };
const QUICK: Durations = { warmupMs: 100, durationMs: 400, fsyncMs: 300 };

type WriterResults = Map<number, HttpWriterResult>;

/** Signet's results, with the leader's own Raft figures over the one-writer run. */
interface SignetResults {
  readonly writers: WriterResults;
  readonly singleWriterLeader: RaftMeans;
}

/** One concurrency's worth of writes through the child load generator. */
function drive(
  system: HttpWriterConfig['system'],
  address: { host: string; port: number },
  token: string | null,
  writers: number,
  durations: Durations,
  serverPids: readonly number[],
): Promise<HttpWriterResult> {
  const config: HttpWriterConfig = {
    system,
    host: address.host,
    port: address.port,
    token,
    writers,
    warmupMs: durations.warmupMs,
    durationMs: durations.durationMs,
    valueBytes: VALUE_BYTES,
    keyPrefix: `bench/w${writers}`,
    serverPids,
  };
  return runChild<HttpWriterResult>(
    './http-writer.ts',
    config,
    durations.warmupMs + durations.durationMs + 60_000,
  );
}

function writersLabel(writers: number): string {
  return `${writers} writer${writers === 1 ? '' : 's'}`;
}

function describe(result: HttpWriterResult): string {
  const cpu = cpuPerWriteUs(result);
  return `${Math.round(result.perSecond)} writes/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, servers' CPU ${cpu === null ? 'unknown' : `${Math.round(cpu)} µs`} per write`;
}

/** CPU time of the three servers together per measured write, in µs, or null when unknown. */
function cpuPerWriteUs(result: HttpWriterResult): number | null {
  return result.serverCpuMs === null || result.count === 0
    ? null
    : (result.serverCpuMs * 1000) / result.count;
}

async function measureSignet(
  root: string,
  durations: Durations,
  context: BenchContext,
): Promise<SignetResults> {
  context.progress('starting 3 Signet servers (fsync on, ACLs on)');
  const cluster = await Cluster.start({
    servers: 3,
    acl: true,
    dataRoot: join(root, 'signet'),
    startTimeoutMs: 90_000,
    logLevel: 'warn',
  });
  try {
    const leader = await cluster.waitForLeader(60_000);
    const [host, port] = splitAddress(leader.httpAddr);
    const results: WriterResults = new Map();
    let singleWriterLeader: RaftMeans | null = null;
    for (const writers of WRITERS) {
      const before = await readRaftSums(leader.httpAddr);
      const pids = cluster.servers().flatMap((server) => (server.pid === undefined ? [] : [server.pid]));
      const result = await drive('signet', { host, port }, cluster.managementToken, writers, durations, pids);
      context.progress(`Signet, ${writersLabel(writers)}: ${describe(result)}`);
      results.set(writers, result);
      if (writers === 1) {
        singleWriterLeader = meansBetween(before, await readRaftSums(leader.httpAddr));
        const { commitMs, fsyncMs } = singleWriterLeader;
        context.progress(
          `Signet leader at 1 writer: commit mean ${commitMs?.toFixed(3)} ms, synced save mean ${fsyncMs?.toFixed(3)} ms`,
        );
      }
    }
    const leaderAfter = await cluster.waitForLeader(10_000);
    if (leaderAfter !== leader) {
      throw new Error(
        `the Signet leader changed from ${leader.name} to ${leaderAfter.name} during the writes`,
      );
    }
    return { writers: results, singleWriterLeader: singleWriterLeader! };
  } finally {
    await cluster.stop();
  }
}

async function measureEtcd(
  root: string,
  durations: Durations,
  context: BenchContext,
): Promise<WriterResults> {
  context.progress('starting 3 etcd members');
  const etcdRoot = join(root, 'etcd');
  await mkdir(etcdRoot);
  const cluster = await EtcdCluster.start(3, etcdRoot);
  try {
    const port = await cluster.leaderPort();
    const results: WriterResults = new Map();
    for (const writers of WRITERS) {
      const result = await drive(
        'etcd',
        { host: '127.0.0.1', port },
        null,
        writers,
        durations,
        cluster.pids(),
      );
      context.progress(`etcd, ${writersLabel(writers)}: ${describe(result)}`);
      results.set(writers, result);
    }
    return results;
  } finally {
    await cluster.stop();
  }
}

/** Builds the rows of every concurrency and the commit-latency rows from the measured results. */
export function raftWriteRows(
  { writers: signet, singleWriterLeader: leader }: SignetResults,
  etcd: WriterResults | string,
  etcdName: string,
  fsync: LatencySummary,
): BenchRow[] {
  const rows: BenchRow[] = [];
  const etcdNote = typeof etcd === 'string' ? etcd : null;
  for (const writers of WRITERS) {
    const ours = signet.get(writers)!;
    const theirs = typeof etcd === 'string' ? null : (etcd.get(writers) ?? null);
    const targeted = TARGET_WRITERS.has(writers);
    const raw = { writers, valueBytes: VALUE_BYTES, signet: ours, etcd: theirs };
    const label = writersLabel(writers);
    rows.push(
      makeRow({
        figure: `Raft writes/s, ${label}, 3 servers, HTTP API, ${VALUE_BYTES}-byte values`,
        unit: 'writes/s',
        signet: ours.perSecond,
        reference: theirs?.perSecond ?? null,
        referenceName: etcdName,
        target: targeted ? { kind: 'ratio-at-least', value: 1, label: "≥ 1.0× etcd's" } : null,
        note: etcdNote,
        raw,
      }),
      makeRow({
        figure: `write latency p50, ${label}`,
        unit: 'ms',
        signet: ours.p50Ms,
        reference: theirs?.p50Ms ?? null,
        referenceName: etcdName,
        note: etcdNote,
        raw,
      }),
      makeRow({
        figure: `write latency p99, ${label}`,
        unit: 'ms',
        signet: ours.p99Ms,
        reference: theirs?.p99Ms ?? null,
        referenceName: etcdName,
        target: targeted ? { kind: 'ratio-at-most', value: 1, label: "≤ etcd's" } : null,
        note: etcdNote,
        raw,
      }),
      // Both clusters and the load generator share 2 cores, so the CPU each write costs bounds the
      // throughput and, unlike the rate, holds steady when other processes take the cores.
      makeRow({
        figure: `servers' CPU time per write, ${label} (user + system of all 3 servers)`,
        unit: 'µs',
        signet: cpuPerWriteUs(ours),
        reference: theirs === null ? null : cpuPerWriteUs(theirs),
        referenceName: etcdName,
        note: etcdNote,
        raw,
      }),
    );
  }
  const single = signet.get(1)!;
  const fsyncName = `one ${VALUE_BYTES}-byte write+fsync, same disk`;
  const raw = { signet: single, fsync, leader };
  rows.push(
    makeRow({
      figure: 'commit latency at 1 writer, p50 (HTTP write to reply)',
      unit: 'ms',
      signet: single.p50Ms,
      reference: fsync.p50Ms,
      referenceName: fsyncName,
      target: {
        kind: 'ratio-at-most',
        value: COMMIT_TARGET_FSYNCS,
        label: `≤ ${COMMIT_TARGET_FSYNCS}× the fsync`,
      },
      raw,
    }),
    makeRow({
      figure: 'commit latency at 1 writer, p99 (HTTP write to reply)',
      unit: 'ms',
      signet: single.p99Ms,
      reference: fsync.p99Ms,
      referenceName: fsyncName,
      raw,
    }),
    makeRow({
      figure: `Raft commit on the leader at 1 writer, mean (proposal to commit, ${leader.commits} commits)`,
      unit: 'ms',
      signet: leader.commitMs,
      reference: fsync.meanMs,
      referenceName: `${fsyncName}, mean`,
      raw,
    }),
    makeRow({
      figure: `leader's synced Raft save at 1 writer, mean (LevelDB batch with sync, ${leader.fsyncs} saves)`,
      unit: 'ms',
      signet: leader.fsyncMs,
      reference: fsync.meanMs,
      referenceName: `${fsyncName}, mean`,
      raw,
    }),
  );
  return rows;
}

export const raftWritesBenchmark: Benchmark = {
  name: 'raft-writes',
  description: `Raft writes at ${WRITERS.join(', ')} writers on 3 Signet servers vs 3 etcd members, commit latency vs fsync`,
  async run(context) {
    const durations = context.quick ? QUICK : FULL;
    const root = await mkdtemp(join(tmpdir(), 'signet-bench-writes-'));
    try {
      const signet = await measureSignet(root, durations, context);

      context.progress(`write+fsync of ${VALUE_BYTES} bytes for ${durations.fsyncMs} ms in ${root}`);
      const fsync = await runChild<LatencySummary>(
        './fsync-probe.ts',
        { dir: root, recordBytes: VALUE_BYTES, durationMs: durations.fsyncMs },
        durations.fsyncMs + 30_000,
      );
      context.progress(`fsync: p50 ${fsync.p50Ms.toFixed(3)} ms, p99 ${fsync.p99Ms.toFixed(3)} ms`);

      let etcd: WriterResults | string = 'not measured (--no-etcd)';
      let etcdName = 'etcd, 3 members';
      if (context.etcd) {
        const binary = ensureEtcd(context.progress);
        if (typeof binary === 'string') {
          etcd = binary;
        } else {
          etcdName = `etcd ${binary.version}, 3 members`;
          etcd = await measureEtcd(root, durations, context);
        }
      }
      return raftWriteRows(signet, etcd, etcdName, fsync);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
};
