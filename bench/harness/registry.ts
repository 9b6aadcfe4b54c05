import { aclBenchmark } from '../acl-rows.js';
import { failoverBenchmark } from '../failover-rows.js';
import { identityBenchmark } from '../identity-rows.js';
import { placementBenchmark } from '../placement-rows.js';
import { raftWritesBenchmark } from '../raft-writes.js';
import { stateRssBenchmark } from '../state-rss.js';
import type { Benchmark } from './benchmark.js';
import type { BenchRow } from './row.js';

/** Every benchmark of `npm run bench`, in the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [
  raftWritesBenchmark,
  identityBenchmark,
  aclBenchmark,
  placementBenchmark,
  stateRssBenchmark,
  failoverBenchmark,
];

/** Figures of the table that no benchmark measures yet, with their targets, so the table shows the gap. */
export const NOT_MEASURED: readonly BenchRow[] = [];
