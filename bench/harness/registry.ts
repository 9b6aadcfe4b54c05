import { aclBenchmark } from '../acl-rows.js';
import { identityBenchmark } from '../identity-rows.js';
import { placementBenchmark } from '../placement-rows.js';
import { raftWritesBenchmark } from '../raft-writes.js';
import { stateRssBenchmark } from '../state-rss.js';
import type { Benchmark } from './benchmark.js';
import { type BenchRow, notMeasuredRow } from './row.js';

/** Every benchmark of `npm run bench`, in the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [
  raftWritesBenchmark,
  identityBenchmark,
  aclBenchmark,
  placementBenchmark,
  stateRssBenchmark,
];

/** Figures of the table that no benchmark measures yet, with their targets, so the table shows the gap. */
export const NOT_MEASURED: readonly BenchRow[] = [
  notMeasuredRow(
    'leader SIGKILL to first identity signed by the new leader, median of 20 trials',
    'ms',
    { kind: 'ratio-at-most', value: 1, label: "median ≤ etcd's; worst < 2× election timeout" },
    "etcd's time to a new leader, same kill",
  ),
];
