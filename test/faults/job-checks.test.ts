import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { describeViolation } from '../../cluster/faults/runner/check-step.js';
import {
  type AllocationSeen,
  type JobEvidence,
  type JobViolation,
  judgeJobs,
} from '../../cluster/faults/runner/job-checks.js';
import { runFaults } from '../../cluster/faults/runner/run.js';
import { countJobEvents, type JobEvent } from '../../cluster/faults/workload/jobs-log.js';
import { readTaskToken } from '../../cluster/faults/workload/jobs-spec.js';

/** Builds a running, signed allocation with its token on disk, which breaks no rule. */
function alloc(id: string, name: string, fields: Partial<AllocationSeen> = {}): AllocationSeen {
  return {
    id,
    name,
    jobId: 'faults-job-1',
    group: 'g',
    desiredStatus: 'run',
    clientStatus: 'running',
    signingKeyId: 'key-1',
    tasksWithoutToken: [],
    ...fields,
  };
}

/** Evidence of one job of count 2 that runs its two allocations, with every probe as expected. */
function cleanEvidence(fields: Partial<JobEvidence> = {}): JobEvidence {
  return {
    overPlacedDuringRun: [],
    jobs: [{ id: 'faults-job-1', stop: false, counts: { g: 2 } }],
    allocations: [alloc('a1', 'faults-job-1.g[0]'), alloc('a2', 'faults-job-1.g[1]')],
    settled: true,
    refusedWhileRunning: [],
    notStopped: [],
    acceptedAfterTerminal: [],
    checkedRunning: 2,
    checkedTerminal: 2,
    ...fields,
  };
}

function kinds(violations: readonly JobViolation[]): string[] {
  return violations.map((violation) => violation.kind);
}

describe('judgeJobs', () => {
  test('clean evidence passes', () => {
    assert.deepEqual(judgeJobs(cleanEvidence()), []);
  });

  test('more live allocations than the count', () => {
    const evidence = cleanEvidence({
      allocations: [
        alloc('a1', 'faults-job-1.g[0]'),
        alloc('a2', 'faults-job-1.g[1]'),
        alloc('a3', 'faults-job-1.g[2]', { clientStatus: 'pending' }),
      ],
    });
    const violations = judgeJobs(evidence);
    assert.deepEqual(kinds(violations), ['placed-twice']);
    const [violation] = violations;
    assert.equal(violation?.kind === 'placed-twice' && violation.count, 2);
    assert.deepEqual(violation?.kind === 'placed-twice' && violation.allocIds, ['a1', 'a2', 'a3']);
  });

  test('two live allocations with one name', () => {
    const evidence = cleanEvidence({
      jobs: [{ id: 'faults-job-1', stop: false, counts: { g: 3 } }],
      allocations: [alloc('a1', 'faults-job-1.g[0]'), alloc('a2', 'faults-job-1.g[0]')],
    });
    const violations = judgeJobs(evidence);
    assert.deepEqual(kinds(violations), ['placed-twice']);
    assert.equal(violations[0]?.kind === 'placed-twice' && violations[0].count, null);
  });

  test('finished or stopping replacements are not placed twice', () => {
    const evidence = cleanEvidence({
      allocations: [
        alloc('a1', 'faults-job-1.g[0]'),
        alloc('a2', 'faults-job-1.g[1]'),
        alloc('old', 'faults-job-1.g[0]', { clientStatus: 'lost' }),
        alloc('stopping', 'faults-job-1.g[1]', { desiredStatus: 'stop' }),
      ],
    });
    assert.deepEqual(judgeJobs(evidence), []);
  });

  test('job placed twice during the faults', () => {
    const event = {
      kind: 'over-placed',
      jobId: 'faults-job-7',
      count: 1,
      allocIds: ['x1', 'x2'],
      server: '127.0.0.1:1',
      callNs: 5,
    } as const;
    const violations = judgeJobs(cleanEvidence({ overPlacedDuringRun: [event] }));
    assert.deepEqual(violations, [
      { kind: 'placed-twice', jobId: 'faults-job-7', group: 'g', count: 1, allocIds: ['x1', 'x2'] },
    ]);
  });

  test('allocation without a signing key', () => {
    const evidence = cleanEvidence({
      allocations: [alloc('a1', 'faults-job-1.g[0]'), alloc('a2', 'faults-job-1.g[1]', { signingKeyId: '' })],
    });
    const violations = judgeJobs(evidence);
    assert.deepEqual(kinds(violations), ['missing-identity']);
    assert.equal(violations[0]?.kind === 'missing-identity' && violations[0].allocId, 'a2');
  });

  test('running allocation without its token file', () => {
    const evidence = cleanEvidence({
      allocations: [
        alloc('a1', 'faults-job-1.g[0]', { tasksWithoutToken: ['sleeper'] }),
        // A finished allocation may have lost its folder; only a running one must hold its token.
        alloc('done', 'faults-job-1.g[1]', { clientStatus: 'complete', tasksWithoutToken: ['sleeper'] }),
        alloc('a2', 'faults-job-1.g[1]'),
      ],
    });
    const violations = judgeJobs(evidence);
    assert.deepEqual(kinds(violations), ['missing-identity']);
    assert.equal(violations[0]?.kind === 'missing-identity' && violations[0].allocId, 'a1');
  });

  test('identity refused while its allocation runs', () => {
    const reply = { allocId: 'a1', task: 'sleeper', server: 's2', status: 403 };
    const violations = judgeJobs(cleanEvidence({ refusedWhileRunning: [reply] }));
    assert.deepEqual(kinds(violations), ['identity-refused']);
    assert.deepEqual(violations[0]?.kind === 'identity-refused' && violations[0].replies, [reply]);
  });

  test('identity accepted after its allocation finished', () => {
    const reply = { allocId: 'a1', task: 'sleeper', server: 's3', status: 404 };
    const violations = judgeJobs(cleanEvidence({ acceptedAfterTerminal: [reply] }));
    assert.deepEqual(kinds(violations), ['identity-after-terminal']);
    assert.deepEqual(violations[0]?.kind === 'identity-after-terminal' && violations[0].replies, [reply]);
  });

  test('jobs that never settle or never stop', () => {
    assert.deepEqual(kinds(judgeJobs(cleanEvidence({ settled: false }))), ['jobs-unsettled']);
    assert.deepEqual(kinds(judgeJobs(cleanEvidence({ notStopped: ['a1'] }))), ['jobs-unsettled']);
  });

  test('run report describes job violations', () => {
    const reply = { allocId: 'a1', task: 'sleeper', server: 's3', status: 200 };
    const [violation] = judgeJobs(cleanEvidence({ acceptedAfterTerminal: [reply] }));
    const lines = describeViolation(violation!);
    assert.ok(lines.length >= 2);
    assert.match(lines[1]!, /s3: allocation a1 task sleeper got 200/);
  });
});

describe('job side log and tokens', () => {
  test('countJobEvents tallies outcomes', () => {
    const events: JobEvent[] = [
      { kind: 'register', jobId: 'j', count: 1, server: 's', callNs: 0, returnNs: 1, outcome: 'ok' },
      { kind: 'register', jobId: 'k', count: 1, server: 's', callNs: 0, returnNs: 1, outcome: 'unknown' },
      { kind: 'deregister', jobId: 'j', server: 's', callNs: 2, returnNs: 3, outcome: 'ok' },
      { kind: 'verify', allocId: 'a', task: 't', server: 's', callNs: 4, returnNs: 5, status: 404 },
      { kind: 'verify', allocId: 'a', task: 't', server: 's', callNs: 4, returnNs: 5, status: 200 },
      { kind: 'verify', allocId: 'a', task: 't', server: 's', callNs: 4, returnNs: 5, status: 403 },
      { kind: 'verify', allocId: 'a', task: 't', server: 's', callNs: 4, returnNs: 5, status: null },
      { kind: 'no-token', allocId: 'b', task: 't', callNs: 6 },
    ];
    assert.deepEqual(countJobEvents(events), {
      registered: 1,
      deregistered: 1,
      verifications: 4,
      accepted: 2,
      refused: 1,
      noToken: 1,
    });
  });

  test('readTaskToken finds the file in any client folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'signet-job-token-'));
    try {
      const first = join(root, 'client-1');
      const second = join(root, 'client-2');
      const secrets = join(second, 'alloc', 'a1', 'sleeper', 'secrets');
      await mkdir(secrets, { recursive: true });
      await writeFile(join(secrets, 'nomad_token'), 'header.payload.signature\n');
      const empty = join(first, 'alloc', 'a2', 'sleeper', 'secrets');
      await mkdir(empty, { recursive: true });
      await writeFile(join(empty, 'nomad_token'), '');

      assert.equal(await readTaskToken([first, second], 'a1', 'sleeper'), 'header.payload.signature');
      assert.equal(await readTaskToken([first, second], 'a2', 'sleeper'), null);
      assert.equal(await readTaskToken([first, second], 'missing', 'sleeper'), null);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('fault run with jobs', { timeout: 240_000 }, () => {
  test('short run reports no violation', async () => {
    const lines: string[] = [];
    const result = await runFaults({
      seed: 17,
      durationS: 25,
      faults: ['kill', 'pause', 'transfer'],
      servers: 3,
      clients: 4,
      ratePerSecond: 50,
      requestTimeoutMs: 3_000,
      recoveryBoundMs: 15_000,
      log: (line) => lines.push(line),
    });
    assert.deepEqual(
      result.violations.flatMap((violation) => describeViolation(violation)),
      [],
      `run log:\n${lines.join('\n')}`,
    );
    assert.ok(result.faults.length > 0, 'faults were injected');
    const jobs = result.jobs;
    assert.ok(jobs !== null, 'the run had a job step');
    assert.ok(jobs.registered > 0, 'jobs were registered');
    assert.ok(jobs.accepted > 0, 'identities were accepted during the faults');
    assert.ok(jobs.checkedRunning > 0, 'identities of running allocations were probed after the heal');
    assert.ok(jobs.checkedTerminal > 0, 'identities of finished allocations were probed after the stop');
  });
});
