import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MachineInfo } from '../../bench/harness/machine.js';
import { type BenchReport, renderJson, renderMarkdown } from '../../bench/harness/report.js';
import { makeRow, meetsTarget, notMeasuredRow, ratioOf } from '../../bench/harness/row.js';

const MACHINE: MachineInfo = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryBytes: 8 * 2 ** 30,
  disk: '/dev/test (ext4, 10G) under /tmp',
  node: 'v20.0.0',
  platform: 'linux x64',
  loadAverageAtStart: 0.5,
};

function report(quick: boolean): BenchReport {
  return {
    date: '2026-12-05T00:00:00.000Z',
    quick,
    command: 'npm run bench',
    machine: MACHINE,
    loadAverageAtEnd: 1.5,
    benchmarks: [
      {
        name: 'writes',
        durationMs: 1000,
        error: null,
        rows: [
          makeRow({
            figure: 'writes/s, 16 writers',
            unit: 'writes/s',
            signet: 1500,
            reference: 1000,
            referenceName: 'etcd',
            target: { kind: 'ratio-at-least', value: 1 },
            raw: { count: 12 },
          }),
        ],
      },
      { name: 'broken', durationMs: 5, error: 'cluster did not start', rows: [] },
    ],
    notMeasured: [
      notMeasuredRow('ACL decisions/s', 'decisions/s', { kind: 'at-least', value: 200_000 }, null),
    ],
  };
}

/** Returns the table's rows, which start with a pipe, each split into trimmed cells. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((text) => text.trim()),
    );
}

describe('benchmark rows', () => {
  test('ratio is signet over reference', () => {
    assert.equal(ratioOf(300, 200), 1.5);
    assert.equal(ratioOf(null, 200), null);
    assert.equal(ratioOf(300, null), null);
    assert.equal(ratioOf(300, 0), null);
  });

  test('ratio targets judge the ratio', () => {
    assert.equal(meetsTarget({ kind: 'ratio-at-least', value: 0.7 }, 70, 0.7), 'yes');
    assert.equal(meetsTarget({ kind: 'ratio-at-least', value: 0.7 }, 69, 0.69), 'no');
    assert.equal(meetsTarget({ kind: 'ratio-at-most', value: 4 }, 8, 4), 'yes');
    assert.equal(meetsTarget({ kind: 'ratio-at-most', value: 4 }, 9, 4.5), 'no');
  });

  test('absolute target judges the figure', () => {
    assert.equal(meetsTarget({ kind: 'at-least', value: 5000 }, 5000, null), 'yes');
    assert.equal(meetsTarget({ kind: 'at-least', value: 5000 }, 4999, null), 'no');
    assert.equal(meetsTarget({ kind: 'below', value: 2000 }, 1999, null), 'yes');
    assert.equal(meetsTarget({ kind: 'below', value: 2000 }, 2000, null), 'no');
  });

  test('missing figure or target gives a dash', () => {
    assert.equal(meetsTarget(null, 10, 1), '—');
    assert.equal(meetsTarget({ kind: 'at-least', value: 1 }, null, null), '—');
    assert.equal(meetsTarget({ kind: 'ratio-at-least', value: 1 }, 10, null), '—');
  });

  test('makeRow derives ratio and verdict', () => {
    const row = makeRow({
      figure: 'p99',
      unit: 'ms',
      signet: 12,
      reference: 10,
      target: { kind: 'ratio-at-most', value: 1 },
    });
    assert.equal(row.ratio, 1.2);
    assert.equal(row.meets, 'no');
    assert.equal(row.referenceName, null);
    assert.deepEqual(row.raw, {});
  });

  test('not-measured row has no numbers', () => {
    const row = notMeasuredRow('memory', 'bytes', null, null);
    assert.equal(row.signet, null);
    assert.equal(row.ratio, null);
    assert.equal(row.meets, '—');
    assert.equal(row.note, 'not measured yet');
  });
});

describe('report writer', () => {
  test('markdown table has the columns and every row', () => {
    const rows = tableRows(renderMarkdown(report(false)));
    assert.deepEqual(rows[0], ['figure', 'Signet', 'reference', 'ratio', 'target', 'meets target']);
    assert.equal(rows.length, 2 + 2);
    assert.deepEqual(rows[2], [
      'writes/s, 16 writers',
      '1,500 writes/s',
      '1,000 writes/s (etcd)',
      '1.50×',
      '≥ 1× reference',
      'yes',
    ]);
    assert.equal(rows[3]![0], 'ACL decisions/s');
    assert.equal(rows[3]![1], 'not measured yet');
    assert.equal(rows[3]![5], '—');
  });

  test('markdown names machine, date and failures', () => {
    const markdown = renderMarkdown(report(false));
    assert.ok(markdown.includes('Test CPU, 2 cores, 8.0 GiB RAM'));
    assert.ok(markdown.includes('2026-12-05T00:00:00.000Z'));
    assert.ok(markdown.includes('`broken`: cluster did not start'));
    assert.ok(!markdown.includes('Quick run'));
  });

  test('table columns are padded evenly', () => {
    const lines = renderMarkdown(report(false))
      .split('\n')
      .filter((line) => line.startsWith('|'));
    const widths = new Set(lines.map((line) => [...line].length));
    assert.equal(widths.size, 1);
  });

  test('quick run is marked', () => {
    assert.ok(renderMarkdown(report(true)).includes('Quick run (`--quick`)'));
  });

  test('JSON keeps raw numbers and flags', () => {
    const parsed = JSON.parse(renderJson(report(true))) as BenchReport;
    assert.equal(parsed.quick, true);
    assert.equal(parsed.machine.cores, 2);
    assert.equal(parsed.benchmarks[0]!.rows[0]!.signet, 1500);
    assert.deepEqual(parsed.benchmarks[0]!.rows[0]!.raw, { count: 12 });
    assert.equal(parsed.benchmarks[1]!.error, 'cluster did not start');
    assert.equal(parsed.notMeasured[0]!.note, 'not measured yet');
  });
});
