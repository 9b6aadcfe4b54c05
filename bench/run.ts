import { fileURLToPath } from 'node:url';
import { parseBenchOptions, USAGE } from './harness/options.js';
import { BENCHMARKS, NOT_MEASURED } from './harness/registry.js';
import { formatValue } from './harness/report.js';
import { runBenchmarks, selectBenchmarks } from './harness/runner.js';
import { runLegacyBenchmarks } from './legacy.js';

/**
 * `npm run bench`: runs the benchmarks of bench/harness/registry.ts one after another, prints
 * progress, then writes BENCHMARKS.md and bench-results.json. `--legacy` runs the older
 * one-line-per-case benchmarks that docs/benchmarks.md quotes.
 */
function listing(): string {
  return `benchmarks: ${BENCHMARKS.map((benchmark) => `${benchmark.name} (${benchmark.description})`).join('; ')}`;
}

let options: ReturnType<typeof parseBenchOptions>;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n${listing()}`);
  process.exit(2);
}
if (options.help) {
  console.log(`${USAGE}\n${listing()}`);
  process.exit(0);
}
if (options.legacy) {
  await runLegacyBenchmarks();
  process.exit(0);
}

let selected: ReturnType<typeof selectBenchmarks>;
try {
  selected = selectBenchmarks(BENCHMARKS, options.only);
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(2);
}
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
  ' ',
);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const result = await runBenchmarks(selected, NOT_MEASURED, options, command, repoRoot);

for (const outcome of result.report.benchmarks) {
  for (const row of outcome.rows) {
    const signet = row.signet === null ? (row.note ?? 'not measured') : formatValue(row.signet, row.unit);
    const ratio =
      row.ratio === null ? '' : `, ${row.ratio.toFixed(2)}× reference, meets target: ${row.meets}`;
    console.log(`${row.figure}: ${signet}${ratio}`);
  }
}
console.log(`wrote ${result.markdownPath} and ${result.jsonPath}`);
const failed = result.report.benchmarks.filter((outcome) => outcome.error !== null);
process.exit(failed.length > 0 ? 1 : 0);
