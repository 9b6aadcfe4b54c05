import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { AllocDir } from '../../src/client/alloc-dir.js';
import { RawExecDriver } from '../../src/client/drivers/raw-exec.js';
import { TaskRunner } from '../../src/client/task-runner.js';
import { ALLOC_ID, makeContext, makeDataDir, makeTask, removeDataDir } from './driver-support.js';

// Start-to-exit latency of a raw_exec `/bin/true` task: through the driver alone (spawn, log files,
// /proc read, exit event), and through a TaskRunner (folders and environment as well). The p50 is
// printed as a test diagnostic; the bound only catches a gross regression.

const RUNS = 50;

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

let dataDir: string;
before(async () => {
  dataDir = await makeDataDir();
});
after(async () => {
  await removeDataDir(dataDir);
});

test('raw_exec /bin/true start to exit p50', async (t) => {
  const driver = new RawExecDriver({ enabled: true });
  const context = await makeContext(dataDir, 'true');
  const task = makeTask('raw_exec', { command: '/bin/true' }, { Name: 'true' });
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const startedAt = performance.now();
    const handle = await driver.start(task, context);
    const result = await handle.wait();
    samples.push(performance.now() - startedAt);
    assert.equal(result.exitCode, 0);
  }
  const p50 = percentile(samples, 50);
  t.diagnostic(
    `driver: p50 ${p50.toFixed(2)} ms, p90 ${percentile(samples, 90).toFixed(2)} ms over ${RUNS} runs`,
  );
  assert.ok(p50 < 500, `p50 ${p50} ms`);
});

test('raw_exec /bin/true through a TaskRunner p50', async (t) => {
  const driver = new RawExecDriver({ enabled: true });
  const allocDir = new AllocDir(dataDir, ALLOC_ID);
  const logger = pino({ level: 'silent' });
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const task = makeTask('raw_exec', { command: '/bin/true' }, { Name: `true-${i}` });
    const startedAt = performance.now();
    const runner = new TaskRunner({ alloc: runnerAlloc, jobName: 'bench', task, allocDir, driver, logger });
    const final = await runner.run();
    samples.push(performance.now() - startedAt);
    assert.equal(final.Failed, false);
  }
  const p50 = percentile(samples, 50);
  t.diagnostic(
    `runner: p50 ${p50.toFixed(2)} ms, p90 ${percentile(samples, 90).toFixed(2)} ms over ${RUNS} runs`,
  );
  assert.ok(p50 < 500, `p50 ${p50} ms`);
});

const runnerAlloc = {
  ID: ALLOC_ID,
  Name: 'bench.g[0]',
  Namespace: 'default',
  JobID: 'bench',
  TaskGroup: 'g',
  SignedIdentities: {},
};
