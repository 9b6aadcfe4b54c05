import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from '../../bench/harness/report.js';

const RUNNER = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));

// Proves that `npm run bench -- --quick` runs end to end on a benchmark that needs no etcd. No
// figure is asserted: benchmark results vary with the machine and belong in BENCHMARKS.md.
test('quick run writes both reports', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'signet-bench-test-'));
  try {
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', RUNNER, '--quick', '--only', 'identity', '--out', outDir],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(result.status, 0, `runner failed:\n${result.stdout}\n${result.stderr}`);
    assert.ok(result.stdout.includes('[identity +'), 'no progress line printed');

    const report = JSON.parse(await readFile(join(outDir, 'bench-results.json'), 'utf8')) as BenchReport;
    assert.equal(report.quick, true);
    assert.deepEqual(
      report.benchmarks.map((outcome) => outcome.name),
      ['identity'],
    );
    assert.equal(report.benchmarks[0]!.error, null);
    assert.equal(report.benchmarks[0]!.rows.length, 3);
    for (const row of report.benchmarks[0]!.rows) {
      assert.equal(typeof row.signet, 'number');
      assert.ok(['yes', 'no', '—'].includes(row.meets));
    }
    // Every figure of the issue has a benchmark now, so none is listed as not measured.
    assert.deepEqual(report.notMeasured, []);

    const markdown = await readFile(join(outDir, 'BENCHMARKS.md'), 'utf8');
    assert.match(markdown, /^\| figure +\| Signet +\| reference +\| ratio +\| target +\| meets target \|$/m);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});

test('unknown benchmark name is rejected', () => {
  const result = spawnSync(process.execPath, ['--import', 'tsx', RUNNER, '--only', 'no-such-bench'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 2);
  assert.ok(result.stderr.includes('no-such-bench'));
});
