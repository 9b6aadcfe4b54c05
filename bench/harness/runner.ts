import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchContext, Benchmark } from './benchmark.js';
import { describeMachine } from './machine.js';
import type { BenchOptions } from './options.js';
import { type BenchOutcome, type BenchReport, renderJson, renderMarkdown } from './report.js';
import type { BenchRow } from './row.js';

export interface RunResult {
  readonly report: BenchReport;
  readonly markdownPath: string;
  readonly jsonPath: string;
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Picks the benchmarks named by `--only`; raises naming the unknown names and the known ones. */
export function selectBenchmarks(all: readonly Benchmark[], only: readonly string[]): Benchmark[] {
  if (only.length === 0) return [...all];
  const known = new Set(all.map((benchmark) => benchmark.name));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new TypeError(
      `unknown benchmark ${unknown.join(', ')} in --only; the benchmarks are ${[...known].join(', ')}`,
    );
  }
  return all.filter((benchmark) => only.includes(benchmark.name));
}

async function runOne(benchmark: Benchmark, options: BenchOptions): Promise<BenchOutcome> {
  const started = performance.now();
  const context: BenchContext = {
    quick: options.quick,
    etcd: options.etcd,
    progress: (message) =>
      console.log(`  [${benchmark.name} +${formatSeconds(performance.now() - started)}] ${message}`),
  };
  console.log(`== ${benchmark.name}: ${benchmark.description}`);
  try {
    const rows = await benchmark.run(context);
    const durationMs = performance.now() - started;
    console.log(`== ${benchmark.name} done in ${formatSeconds(durationMs)}, ${rows.length} rows`);
    return { name: benchmark.name, durationMs, rows, error: null };
  } catch (err) {
    const durationMs = performance.now() - started;
    const message = err instanceof Error ? err.message : String(err);
    console.error(`== ${benchmark.name} failed after ${formatSeconds(durationMs)}: ${message}`);
    if (err instanceof Error && err.stack !== undefined) console.error(err.stack);
    return { name: benchmark.name, durationMs, rows: [], error: message };
  }
}

/**
 * Runs the selected benchmarks one after another, so that they do not load the machine at the
 * same time, then writes BENCHMARKS.md and bench-results.json into the output folder.
 */
export async function runBenchmarks(
  benchmarks: readonly Benchmark[],
  notMeasured: readonly BenchRow[],
  options: BenchOptions,
  command: string,
  defaultOutDir: string,
): Promise<RunResult> {
  const date = new Date().toISOString();
  const machine = describeMachine();
  if (options.quick) console.log('Quick run: tiny sizes and durations, the numbers mean nothing.');
  const outcomes: BenchOutcome[] = [];
  for (const benchmark of benchmarks) outcomes.push(await runOne(benchmark, options));

  const report: BenchReport = {
    date,
    quick: options.quick,
    command,
    machine,
    loadAverageAtEnd: loadavg()[0] ?? 0,
    benchmarks: outcomes,
    notMeasured,
  };
  const outDir =
    options.outDir ?? (options.quick ? await mkdtemp(join(tmpdir(), 'signet-bench-quick-')) : defaultOutDir);
  await mkdir(outDir, { recursive: true });
  const markdownPath = join(outDir, 'BENCHMARKS.md');
  const jsonPath = join(outDir, 'bench-results.json');
  await writeFile(markdownPath, renderMarkdown(report));
  await writeFile(jsonPath, renderJson(report));
  return { report, markdownPath, jsonPath };
}
