import type { BenchRow } from './row.js';

export interface BenchContext {
  /** `--quick`: tiny sizes and durations, which prove that the benchmark runs and measure nothing. */
  readonly quick: boolean;
  /** False with `--no-etcd`: benchmarks leave their etcd reference unmeasured. */
  readonly etcd: boolean;
  /** Prints a progress line under the running benchmark's name. */
  progress(message: string): void;
}

/** One benchmark of `npm run bench`: it measures a group of figures and returns them as table rows. */
export interface Benchmark {
  /** Short name for `--only`. */
  readonly name: string;
  readonly description: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}
