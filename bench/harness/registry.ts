import { identityBenchmark } from '../identity-rows.js';
import { raftWritesBenchmark } from '../raft-writes.js';
import type { Benchmark } from './benchmark.js';
import { type BenchRow, notMeasuredRow } from './row.js';

/** Every benchmark of `npm run bench`, in the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [raftWritesBenchmark, identityBenchmark];

/** Figures of the table that no benchmark measures yet, with their targets, so the table shows the gap. */
export const NOT_MEASURED: readonly BenchRow[] = [
  notMeasuredRow(
    'ACL decisions/s for workload identities on a follower, cached',
    'decisions/s',
    { kind: 'at-least', value: 200_000 },
    null,
  ),
  notMeasuredRow(
    'allocations placed and committed/s, 3 servers, 100 simulated nodes',
    'allocs/s',
    { kind: 'at-least', value: 5_000 },
    null,
  ),
  notMeasuredRow(
    'leader SIGKILL to first identity signed by the new leader, median of 20 trials',
    'ms',
    { kind: 'ratio-at-most', value: 1, label: "median ≤ etcd's; worst < 2× election timeout" },
    "etcd's time to a new leader, same kill",
  ),
  notMeasuredRow(
    'server RSS with 100,000 allocations and 10,000 variables, and bytes per allocation',
    'bytes',
    null,
    null,
  ),
];
