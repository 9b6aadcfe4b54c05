import type { MachineInfo } from './machine.js';
import type { BenchRow, Target } from './row.js';

/** Rows of one benchmark, or the error that stopped it. */
export interface BenchOutcome {
  readonly name: string;
  readonly durationMs: number;
  readonly rows: readonly BenchRow[];
  readonly error: string | null;
}

export interface BenchReport {
  /** ISO 8601 time when the run started. */
  readonly date: string;
  /** True for `--quick`: tiny sizes and durations, so the figures prove only that the harness runs. */
  readonly quick: boolean;
  /** The command line, so that a reader can repeat the run. */
  readonly command: string;
  readonly machine: MachineInfo;
  /** The 1-minute load average when the run ended; with the one at the start, a sign of other work on the machine. */
  readonly loadAverageAtEnd: number;
  readonly benchmarks: readonly BenchOutcome[];
  /** Rows of the table that no benchmark measures yet. */
  readonly notMeasured: readonly BenchRow[];
}

/** Formats a figure: rates as whole numbers with thousands separators, times in ms with 2 decimals below 10, 1 below 100. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'ms') {
    if (value < 10) return `${value.toFixed(2)} ms`;
    if (value < 100) return `${value.toFixed(1)} ms`;
    return `${Math.round(value).toLocaleString('en-US')} ms`;
  }
  return `${Math.round(value).toLocaleString('en-US')} ${unit}`;
}

export function formatTarget(target: Target | null, unit: string): string {
  if (target === null) return '—';
  if (target.label !== undefined) return target.label;
  switch (target.kind) {
    case 'ratio-at-least':
      return `≥ ${target.value}× reference`;
    case 'ratio-at-most':
      return `≤ ${target.value}× reference`;
    case 'at-least':
      return `≥ ${formatValue(target.value, unit)}`;
    case 'below':
      return `< ${formatValue(target.value, unit)}`;
  }
}

function signetCell(row: BenchRow): string {
  if (row.signet === null) return row.note ?? 'not measured';
  return formatValue(row.signet, row.unit);
}

function referenceCell(row: BenchRow): string {
  if (row.reference !== null) {
    const value = formatValue(row.reference, row.unit);
    return row.referenceName === null ? value : `${value} (${row.referenceName})`;
  }
  if (row.referenceName === null) return '—';
  // A planned reference that is missing gets its reason, because a blank cell reads as zero.
  return row.signet !== null && row.note !== null ? `${row.referenceName}: ${row.note}` : row.referenceName;
}

function figureCell(row: BenchRow): string {
  // A note on a measured row qualifies the figure, unless it explains a missing reference in the
  // reference cell. On an unmeasured row the note is in the Signet cell.
  const explainsMissingReference = row.reference === null && row.referenceName !== null;
  if (row.signet !== null && row.note !== null && !explainsMissingReference)
    return `${row.figure} (${row.note})`;
  return row.figure;
}

/** Escapes the characters that would end a markdown table cell. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/**
 * Lays out a markdown table with every column padded to its widest cell, the layout that the
 * formatter (Biome) writes, so that a written report passes `npm run lint` unchanged.
 */
function renderTable(header: readonly string[], body: readonly (readonly string[])[]): string[] {
  const rows = [header, ...body].map((cells) => cells.map(cell));
  const widths = header.map((_, column) => Math.max(3, ...rows.map((cells) => [...cells[column]!].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => text + ' '.repeat(widths[column]! - [...text].length)).join(' | ')} |`;
  const [head, ...rest] = rows;
  return [line(head!), line(widths.map((width) => '-'.repeat(width))), ...rest.map(line)];
}

/** Lists every row of the report in table order: the measured rows, then the rows not measured yet. */
export function reportRows(report: BenchReport): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const outcome of report.benchmarks) rows.push(...outcome.rows);
  rows.push(...report.notMeasured);
  return rows;
}

export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  const lines: string[] = ['# Benchmarks', ''];
  if (report.quick) {
    lines.push(
      '**Quick run (`--quick`): tiny sizes and durations. The numbers below are meaningless; this run only shows that the harness works.**',
      '',
    );
  }
  lines.push(
    `Written by \`${report.command}\` on ${report.date}. Each ratio is Signet ÷ the reference measured in the same run.`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ` +
      `disk ${machine.disk}, Node.js ${machine.node} on ${machine.platform}, ` +
      `1-minute load average ${machine.loadAverageAtStart.toFixed(2)} at the start and ` +
      `${report.loadAverageAtEnd.toFixed(2)} at the end.`,
    '',
  );
  const body = reportRows(report).map((row) => [
    figureCell(row),
    signetCell(row),
    referenceCell(row),
    row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`,
    formatTarget(row.target, row.unit),
    row.meets,
  ]);
  lines.push(...renderTable(['figure', 'Signet', 'reference', 'ratio', 'target', 'meets target'], body));
  const failed = report.benchmarks.filter((outcome) => outcome.error !== null);
  if (failed.length > 0) {
    lines.push('', '## Failed benchmarks', '');
    for (const outcome of failed) lines.push(`- \`${outcome.name}\`: ${outcome.error}`);
  }
  lines.push('', 'The raw numbers of this run are in `bench-results.json`.', '');
  return lines.join('\n');
}

/** Serializes the report, with every row's `raw` field, as the JSON document of raw numbers. */
export function renderJson(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
