import { parseArgs } from 'node:util';

export interface BenchOptions {
  readonly quick: boolean;
  readonly etcd: boolean;
  readonly legacy: boolean;
  /** Names of the benchmarks to run; empty runs them all. */
  readonly only: readonly string[];
  /** Folder for BENCHMARKS.md and bench-results.json; null picks the default for the mode. */
  readonly outDir: string | null;
}

export const USAGE = `usage: npm run bench -- [--quick] [--only NAME[,NAME...]] [--out DIR] [--no-etcd] [--legacy]
  --quick     tiny sizes and durations: checks that the harness runs, in under a minute; the numbers mean nothing
  --only      run only these benchmarks (comma-separated names; see the list below)
  --out       folder for BENCHMARKS.md and bench-results.json (default: the repository root, or a new
              temporary folder with --quick)
  --no-etcd   leave the etcd reference unmeasured instead of installing and starting etcd
  --legacy    print the older one-line-per-case benchmarks of bench/legacy.ts instead`;

/** Parses the runner's arguments; raises a TypeError naming the bad argument. */
export function parseBenchOptions(args: readonly string[]): BenchOptions & { help: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      out: { type: 'string' },
      'no-etcd': { type: 'boolean', default: false },
      legacy: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const only = (values.only ?? []).flatMap((list) => list.split(',')).filter((name) => name !== '');
  return {
    quick: values.quick ?? false,
    etcd: !(values['no-etcd'] ?? false),
    legacy: values.legacy ?? false,
    only,
    outDir: values.out ?? null,
    help: values.help ?? false,
  };
}
