/**
 * Sums of the leader's Raft histograms, read from `GET /v1/metrics?format=prometheus`, so a
 * benchmark can split a write's latency into the Raft commit and the leader's synced save.
 */
export interface RaftSums {
  /** signet_raft_append_seconds: from a proposal to its commit, on the leader. */
  readonly commitSeconds: number;
  readonly commits: number;
  /** signet_raft_fsync_seconds: one synced save of Raft state and entries. */
  readonly fsyncSeconds: number;
  readonly fsyncs: number;
}

/** Mean milliseconds of each histogram between two readings, or null when nothing was observed. */
export interface RaftMeans {
  readonly commitMs: number | null;
  readonly fsyncMs: number | null;
  readonly commits: number;
  readonly fsyncs: number;
}

function metricValue(text: string, name: string): number {
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}{`) || candidate.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} is missing from the server's /v1/metrics`);
  const value = Number(line.slice(line.lastIndexOf(' ') + 1));
  if (!Number.isFinite(value))
    throw new Error(`metric ${name} has the value ${JSON.stringify(line)}, expected a number`);
  return value;
}

/** Reads the sums and counts of the Raft histograms from a server's HTTP address (host:port). */
export async function readRaftSums(httpAddr: string): Promise<RaftSums> {
  const res = await fetch(`http://${httpAddr}/v1/metrics?format=prometheus`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status !== 200) throw new Error(`GET /v1/metrics on ${httpAddr} returned ${res.status}`);
  const text = await res.text();
  return {
    commitSeconds: metricValue(text, 'signet_raft_append_seconds_sum'),
    commits: metricValue(text, 'signet_raft_append_seconds_count'),
    fsyncSeconds: metricValue(text, 'signet_raft_fsync_seconds_sum'),
    fsyncs: metricValue(text, 'signet_raft_fsync_seconds_count'),
  };
}

/** Returns the mean of each histogram over the observations made between `before` and `after`. */
export function meansBetween(before: RaftSums, after: RaftSums): RaftMeans {
  const commits = after.commits - before.commits;
  const fsyncs = after.fsyncs - before.fsyncs;
  return {
    commitMs: commits > 0 ? ((after.commitSeconds - before.commitSeconds) * 1000) / commits : null,
    fsyncMs: fsyncs > 0 ? ((after.fsyncSeconds - before.fsyncSeconds) * 1000) / fsyncs : null,
    commits,
    fsyncs,
  };
}
