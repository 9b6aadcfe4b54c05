import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { History, VariableOperation } from '../../cluster/faults/history.js';
import { historyToJson } from '../../cluster/faults/history.js';
import { describeViolation, judgeRun, type RunEvidence } from '../../cluster/faults/runner/check-step.js';
import { planFaults } from '../../cluster/faults/runner/schedule.js';
import {
  type CallResult,
  sendVariableCall,
  type VariableCall,
} from '../../cluster/faults/workload/variable-call.js';
import { runFaultCli } from './fault-cli.js';

/**
 * Minimum number of operations the short run must record. It targets 100 calls per second for
 * 40 s, about 4,000 calls. The floor is a quarter of that, which leaves room for a loaded machine
 * and for the calls refused while a server is down.
 */
const OPERATIONS_FLOOR = 1_000;

/** Builds one operation on key `k` with the fields the tests do not care about filled in. */
function op(fields: Partial<VariableOperation> & Pick<VariableOperation, 'id' | 'kind'>): VariableOperation {
  return {
    process: fields.id,
    key: 'k',
    callNs: fields.id * 10,
    returnNs: fields.id * 10 + 5,
    outcome: 'ok',
    ...fields,
  } as VariableOperation;
}

/** A put of "a" at index 5, then a put of "b" at 6, then a read that still returns "a": a stale read. */
const STALE_READ: History = {
  operations: [
    op({ id: 1, kind: 'put', input: { value: 'a' }, output: { index: 5 } }),
    op({ id: 2, kind: 'put', input: { value: 'b' }, output: { index: 6 } }),
    op({ id: 3, kind: 'get', input: null, output: { value: 'a', index: 5 } }),
  ],
};

const HEALTHY: Omit<RunEvidence, 'history'> = {
  lostWrites: [],
  crashes: [],
  recoveryMs: 120,
  recoveryBoundMs: 15_000,
};

describe('fault runner check step', () => {
  test('passes a linearizable history', () => {
    const history = { operations: STALE_READ.operations.slice(0, 2) };
    assert.deepEqual(judgeRun({ history, ...HEALTHY }), []);
  });

  test('reports a stale read', () => {
    const violations = judgeRun({ history: STALE_READ, ...HEALTHY });
    assert.equal(violations.length, 1);
    const [violation] = violations;
    assert.equal(violation?.kind, 'not-linearizable');
    assert.equal(violation.kind === 'not-linearizable' && violation.key, 'k');
    const ids = violation.kind === 'not-linearizable' ? violation.operations.map((o) => o.id) : [];
    assert.ok(ids.includes(3), `the window ${JSON.stringify(ids)} leaves out the stale read`);
  });

  test('reports an unfinished search as unchecked', () => {
    // A linearizable history, so that no search, however short, can report a violation instead.
    const history = { operations: STALE_READ.operations.slice(0, 2) };
    const violations = judgeRun({ history, ...HEALTHY }, { budget: 1 });
    assert.deepEqual(
      violations.map((v) => v.kind),
      ['unchecked'],
    );
  });

  test('reports lost writes, no recovery and crashes', () => {
    const history = { operations: STALE_READ.operations.slice(0, 2) };
    const violations = judgeRun({
      history,
      lostWrites: [{ server: 's2', key: 'faults/ledger/c1-3', index: 40, found: null }],
      crashes: [
        { agent: 's1', code: 1, signal: null, logPath: '/tmp/s1/agent.log' },
        { agent: 'client-2', code: null, signal: 'SIGSEGV', logPath: '/tmp/client-2/agent.log' },
      ],
      recoveryMs: null,
      recoveryBoundMs: 15_000,
    });
    assert.deepEqual(
      violations.map((v) => v.kind),
      ['lost-write', 'no-recovery', 'crash', 'crash'],
    );
    assert.match(describeViolation(violations[3]!).join('\n'), /client-2 exited by itself .*SIGSEGV/);
  });
});

describe('fault schedule', () => {
  const options = { seed: 4, kinds: ['kill', 'pause', 'transfer'] as const, durationMs: 60_000 };

  test('same seed gives same plan', () => {
    assert.deepEqual(planFaults(options), planFaults(options));
    assert.notDeepEqual(planFaults(options), planFaults({ ...options, seed: 5 }));
  });

  test('faults never overlap or overrun', () => {
    const plan = planFaults(options);
    assert.ok(plan.length >= 5, `only ${plan.length} faults in 60 s`);
    for (const [i, fault] of plan.entries()) {
      assert.ok(fault.atMs + fault.holdMs <= options.durationMs, `fault ${i} ends after the duration`);
      const next = plan[i + 1];
      if (next !== undefined)
        assert.ok(next.atMs > fault.atMs + fault.holdMs, `fault ${i + 1} overlaps fault ${i}`);
    }
    assert.deepEqual(new Set(plan.map((fault) => fault.kind)), new Set(options.kinds));
  });
});

/** A status and body for each request; null leaves the request without a reply. */
type Reply = { status: number; body?: unknown } | null;

describe('variable call outcomes', () => {
  let server: Server | null = null;
  let address = '';
  let next: Reply = null;
  const seen: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      if (next === null) return;
      response.writeHead(next.status, { 'content-type': 'application/json' });
      response.end(next.body === undefined ? '' : JSON.stringify(next.body));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server!.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  const variable = { Items: { value: 'v1' }, ModifyIndex: 17 };
  const put: VariableCall = { kind: 'put', key: 'faults/a', value: 'v1' };
  const get: VariableCall = { kind: 'get', key: 'faults/a' };
  const cas: VariableCall = { kind: 'cas', key: 'faults/a', value: 'v2', casIndex: 17 };
  const deleteCas: VariableCall = { kind: 'delete', key: 'faults/a', casIndex: 17 };
  const cases: [string, VariableCall, Reply, CallResult][] = [
    ['read 200', get, { status: 200, body: variable }, { outcome: 'ok', output: { value: 'v1', index: 17 } }],
    ['read 404', get, { status: 404 }, { outcome: 'ok', output: { value: null, index: null } }],
    ['read 500', get, { status: 500 }, { outcome: 'fail', output: null }],
    ['read timeout', get, null, { outcome: 'fail', output: null }],
    ['write 200', put, { status: 200, body: variable }, { outcome: 'ok', output: { index: 17 } }],
    ['write 400', put, { status: 400 }, { outcome: 'fail', output: null }],
    ['write 500', put, { status: 500 }, { outcome: 'unknown', output: null }],
    ['write timeout', put, null, { outcome: 'unknown', output: null }],
    [
      'cas 409',
      cas,
      { status: 409, body: variable },
      {
        outcome: 'ok',
        output: { succeeded: false, index: null },
        currentIndex: 17,
        observed: { value: 'v1', index: 17 },
      },
    ],
    [
      'cas 409 on an absent variable',
      cas,
      { status: 409, body: { Namespace: 'default', Path: 'faults/a', ModifyIndex: 0 } },
      {
        outcome: 'ok',
        output: { succeeded: false, index: null },
        currentIndex: 0,
        observed: { value: null, index: null },
      },
    ],
    ['delete-cas 204', deleteCas, { status: 204 }, { outcome: 'ok', output: { succeeded: true } }],
    [
      'delete-cas 409',
      deleteCas,
      { status: 409, body: variable },
      { outcome: 'ok', output: { succeeded: false }, currentIndex: 17, observed: { value: 'v1', index: 17 } },
    ],
  ];
  for (const [name, call, reply, expected] of cases) {
    test(name, async () => {
      next = reply;
      const result = await sendVariableCall({ address, token: 't', timeoutMs: 300 }, call);
      assert.deepEqual(result, expected);
    });
  }

  test('cas sends its index', async () => {
    next = { status: 200, body: variable };
    await sendVariableCall({ address, token: null, timeoutMs: 1_000 }, cas);
    assert.equal(seen.at(-1), 'PUT /v1/var/faults/a?namespace=default&cas=17');
  });

  test('refused write is fail', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await sendVariableCall(
      { address: `127.0.0.1:${port}`, token: null, timeoutMs: 1_000 },
      put,
    );
    assert.deepEqual(result, { outcome: 'fail', output: null });
  });
});

describe('faults --check', () => {
  let folder: string | null = null;
  after(async () => {
    if (folder !== null) await rm(folder, { recursive: true, force: true });
  });

  test('exits 1 on a violating history file', async () => {
    folder = await mkdtemp(join(tmpdir(), 'signet-faults-test-'));
    const file = join(folder, 'history.json');
    await writeFile(file, historyToJson(STALE_READ));
    const run = await runFaultCli(['--check', file], 60_000);
    assert.equal(run.code, 1, run.stdout);
    assert.deepEqual(run.summary, { operations: 3, faults: 0, violations: 1 });
  });
});

describe('npm run faults, short run', { timeout: 300_000 }, () => {
  let out: string | null = null;
  after(async () => {
    if (out !== null) await rm(out, { recursive: true, force: true });
  });

  test('finds no violation under kill, pause and transfer', async () => {
    out = await mkdtemp(join(tmpdir(), 'signet-faults-run-'));
    const args = ['--seed', '9', '--duration', '40', '--faults', 'kill,pause,transfer', '--servers', '3'];
    const run = await runFaultCli([...args, '--out', out], 240_000);
    assert.notEqual(run.summary, null, `no summary line; output:\n${run.stdout.slice(-3000)}`);
    assert.equal(run.summary?.violations, 0, run.stdout.slice(-3000));
    assert.equal(run.code, 0, run.stdout.slice(-3000));
    assert.ok(run.summary.faults >= 3, `only ${run.summary.faults} faults injected`);
    assert.ok(
      run.summary.operations > OPERATIONS_FLOOR,
      `only ${run.summary.operations} operations, expected more than ${OPERATIONS_FLOOR}`,
    );
    // The history file is kept in --out and records the counted operations.
    const history = JSON.parse(await readFile(join(out, 'history-seed-9.json'), 'utf8')) as History;
    assert.equal(history.operations.length, run.summary.operations);
  });
});
