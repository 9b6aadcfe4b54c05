import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { ClientEndpoints, HEARTBEAT_MISSED } from '../../src/server/client-endpoints.js';
import { Heartbeats } from '../../src/server/heartbeats.js';
import { RequestError } from '../../src/server/request-error.js';
import type { Allocation } from '../../src/structs/allocation.js';
import { LogCapture } from '../rpc/transport-support.js';
import { directState } from '../support/client-server.js';
import { makeAlloc, makeEval, makeJob, registration, T0 } from '../support/workload.js';

type Body = Record<string, unknown>;

function setUp() {
  const { state, apply } = directState();
  const logs = new LogCapture();
  const heartbeats = new Heartbeats({ logger: logs.logger, random: () => 0, onExpired: () => {} });
  heartbeats.start([]);
  let consistentReads = 0;
  const endpoints = new ClientEndpoints({
    state,
    apply,
    consistentRead: () => {
      consistentReads++;
      return Promise.resolve();
    },
    servers: () => ['127.0.0.1:4647', '127.0.0.1:4648'],
    heartbeat: (nodeId) => Promise.resolve(heartbeats.heartbeat(nodeId)),
    newId: randomUUID,
    now: () => T0 / 1e6,
    random: () => 0,
    logger: logs.logger,
  });
  const connection = new AbortController();
  const call = (method: string, body: Body): Promise<Body> =>
    endpoints.handle(method, body, {
      remoteAddress: '127.0.0.1:50000',
      signal: connection.signal,
    }) as Promise<Body>;
  return { state, apply, heartbeats, endpoints, call, connection, consistentReads: () => consistentReads };
}

/** Asserts that `promise` rejects with a RequestError of `status`, and returns its message. */
async function rejectsWith(promise: Promise<unknown>, status: number): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
    assert.equal(err.status, status, err.message);
    return err.message;
  }
  assert.fail(`expected a rejection with status ${status}`);
}

async function registerNode(call: (method: string, body: Body) => Promise<Body>, overrides: Body = {}) {
  const node = registration(overrides);
  const response = await call('Node.Register', { Node: node });
  return { node, response, auth: { NodeID: node.ID as string, SecretID: node.SecretID as string } };
}

/** Registers job `web` and places `allocs` with one plan-apply; returns the entry's index. */
async function place(apply: ReturnType<typeof directState>['apply'], allocs: Allocation[]): Promise<number> {
  await apply({ type: 'job-register', v: 1, job: makeJob(), eval: makeEval() }).catch(() => {});
  const { index } = await apply({ type: 'plan-apply', v: 2, place: allocs, stop: [], evals: [], time: T0 });
  return index;
}

describe('Node.Register', () => {
  test('stores a ready node and returns TTL', async () => {
    const { call, state, heartbeats } = setUp();
    const { node, response } = await registerNode(call);
    assert.equal(response.HeartbeatTTL, 10_000);
    assert.deepEqual(response.Servers, ['127.0.0.1:4647', '127.0.0.1:4648']);
    assert.equal(response.Index, state.tableIndex('nodes'));
    const stored = state.node(node.ID as string);
    assert.equal(stored?.Status, 'ready');
    assert.equal(stored?.SecretID, node.SecretID);
    assert.equal(stored?.SchedulingEligibility, 'eligible');
    assert.equal(heartbeats.has(node.ID as string), true);
  });

  test('rejects invalid nodes with Nomad wording', async () => {
    const { call } = setUp();
    const cases: [Body, string][] = [
      [{ Name: '' }, 'missing node name for client registration'],
      [{ Datacenter: undefined }, 'missing datacenter for client registration'],
      [{ ID: '' }, 'missing node ID for client registration'],
      [{ SecretID: undefined }, 'missing node secret ID for client registration'],
      [{ NodeResources: undefined }, 'missing node resources for client registration'],
    ];
    for (const [overrides, message] of cases) {
      const text = await rejectsWith(call('Node.Register', { Node: registration(overrides) }), 400);
      assert.equal(text, message);
    }
    assert.match(
      await rejectsWith(call('Node.Register', { Node: registration({ ID: 'node-1' }) }), 400),
      /invalid node ID.*UUID/,
    );
    assert.match(
      await rejectsWith(call('Node.Register', { Node: registration({ Drivers: { mock: true } }) }), 400),
      /invalid driver "mock"/,
    );
    assert.match(
      await rejectsWith(
        call('Node.Register', { Node: registration({ NodeResources: { CPU: -1, MemoryMB: 1 } }) }),
        400,
      ),
      /CPU must be a positive integer/,
    );
    assert.equal(await rejectsWith(call('Node.Register', {}), 400), 'missing node for client registration');
  });

  test('invalid secret is not echoed', async () => {
    const { call } = setUp();
    const secret = 'not-a-uuid-but-secret-text';
    const message = await rejectsWith(
      call('Node.Register', { Node: registration({ SecretID: secret }) }),
      400,
    );
    assert.equal(message.includes(secret), false);
  });

  test('different secret for a known node is 403', async () => {
    const { call, state } = setUp();
    const { node } = await registerNode(call);
    const message = await rejectsWith(
      call('Node.Register', { Node: { ...node, SecretID: randomUUID(), Name: 'impostor' } }),
      403,
    );
    assert.equal(message, 'node secret ID does not match. Not registering node.');
    assert.equal(state.node(node.ID as string)?.Name, 'client-1');
  });

  test('re-register brings a down node back', async () => {
    const { call, state, endpoints } = setUp();
    const { node } = await registerNode(call);
    await endpoints.expireNode(node.ID as string);
    assert.equal(state.node(node.ID as string)?.Status, 'down');
    await call('Node.Register', { Node: node });
    assert.equal(state.node(node.ID as string)?.Status, 'ready');
  });
});

describe('Node.UpdateStatus', () => {
  test('heartbeat returns TTL without a write', async () => {
    const { call, state } = setUp();
    const { auth } = await registerNode(call);
    const before = state.latestIndex;
    const response = await call('Node.UpdateStatus', { ...auth, Status: 'ready' });
    assert.equal(response.HeartbeatTTL, 10_000);
    assert.equal(state.latestIndex, before);
  });

  test('wrong or missing secret is 403', async () => {
    const { call } = setUp();
    const { auth } = await registerNode(call);
    const wrong = await rejectsWith(
      call('Node.UpdateStatus', { NodeID: auth.NodeID, SecretID: randomUUID(), Status: 'ready' }),
      403,
    );
    assert.equal(wrong, 'Permission denied');
    await rejectsWith(call('Node.UpdateStatus', { NodeID: auth.NodeID, Status: 'ready' }), 403);
  });

  test('unknown node is 404 after a consistent read', async () => {
    const { call, consistentReads } = setUp();
    const message = await rejectsWith(
      call('Node.UpdateStatus', { NodeID: randomUUID(), SecretID: randomUUID(), Status: 'ready' }),
      404,
    );
    assert.equal(message, 'node not found');
    assert.equal(consistentReads(), 1);
  });

  test('invalid status is 400', async () => {
    const { call } = setUp();
    const { auth } = await registerNode(call);
    await rejectsWith(call('Node.UpdateStatus', { ...auth, Status: 'sleepy' }), 400);
  });

  test('status change on a down node is written', async () => {
    const { call, state, endpoints } = setUp();
    const { auth } = await registerNode(call);
    await endpoints.expireNode(auth.NodeID);
    const response = await call('Node.UpdateStatus', { ...auth, Status: 'ready' });
    assert.equal(state.node(auth.NodeID)?.Status, 'ready');
    assert.equal(response.Index, state.tableIndex('nodes'));
  });
});

describe('expireNode', () => {
  test('marks node down with an eval per job', async () => {
    const { call, state, endpoints, apply } = setUp();
    const { auth } = await registerNode(call);
    await place(apply, [
      makeAlloc({ NodeID: auth.NodeID }),
      makeAlloc({ NodeID: auth.NodeID, Name: 'web.frontend[1]' }),
    ]);
    await endpoints.expireNode(auth.NodeID);
    const node = state.node(auth.NodeID);
    assert.equal(node?.Status, 'down');
    assert.equal(node?.StatusDescription, HEARTBEAT_MISSED);
    const evals = state.evaluations().filter((evaluation) => evaluation.TriggeredBy === 'node-update');
    assert.equal(evals.length, 1);
    assert.equal(evals[0]?.JobID, 'web');
    assert.equal(evals[0]?.NodeID, auth.NodeID);
    assert.equal(evals[0]?.Status, 'pending');
  });

  test('already down node is left alone', async () => {
    const { call, state, endpoints } = setUp();
    const { auth } = await registerNode(call);
    await endpoints.expireNode(auth.NodeID);
    const index = state.latestIndex;
    await endpoints.expireNode(auth.NodeID);
    assert.equal(state.latestIndex, index);
  });
});

describe('Node.GetClientAllocs', () => {
  test('first query returns at once', async () => {
    const { call, consistentReads } = setUp();
    const { auth } = await registerNode(call);
    const response = await call('Node.GetClientAllocs', { ...auth, MinQueryIndex: 0, MaxQueryTime: 60_000 });
    assert.deepEqual(response.Allocs, {});
    assert.ok((response.Index as number) > 0);
    assert.equal(consistentReads(), 1);
  });

  test('blocking query wakes on plan-apply', async () => {
    const { call, apply, state } = setUp();
    const { auth } = await registerNode(call);
    const first = await call('Node.GetClientAllocs', { ...auth, MinQueryIndex: 0 });
    let settled = false;
    const waiting = call('Node.GetClientAllocs', {
      ...auth,
      MinQueryIndex: first.Index,
      MaxQueryTime: 60_000,
    }).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    assert.equal(state.pendingWaits('allocs'), 1);

    const alloc = makeAlloc({ NodeID: auth.NodeID });
    const index = await place(apply, [alloc]);
    const response = await waiting;
    assert.deepEqual(response.Allocs, { [alloc.ID]: index });
    assert.equal(response.Index, index);
    assert.equal(state.pendingWaits('allocs'), 0);
  });

  test('other node changes do not wake it', async () => {
    const { call, apply } = setUp();
    const mine = await registerNode(call);
    const other = await registerNode(call, { Name: 'client-2' });
    const first = await call('Node.GetClientAllocs', { ...mine.auth, MinQueryIndex: 0 });
    const started = performance.now();
    const waiting = call('Node.GetClientAllocs', {
      ...mine.auth,
      MinQueryIndex: first.Index,
      MaxQueryTime: 300,
    });
    await place(apply, [makeAlloc({ NodeID: other.auth.NodeID })]);
    const response = await waiting;
    assert.ok(performance.now() - started >= 290, 'returned before MaxQueryTime');
    assert.deepEqual(response.Allocs, {});
    assert.equal(response.Index, first.Index);
  });

  test('closed connection ends the wait', async () => {
    const { call, state, connection } = setUp();
    const { auth } = await registerNode(call);
    const first = await call('Node.GetClientAllocs', { ...auth, MinQueryIndex: 0 });
    const waiting = call('Node.GetClientAllocs', {
      ...auth,
      MinQueryIndex: first.Index,
      MaxQueryTime: 60_000,
    });
    await new Promise((resolve) => setImmediate(resolve));
    connection.abort();
    await waiting;
    assert.equal(state.pendingWaits('allocs'), 0);
  });

  test('wrong secret is 403', async () => {
    const { call } = setUp();
    const { auth } = await registerNode(call);
    await rejectsWith(call('Node.GetClientAllocs', { NodeID: auth.NodeID, SecretID: randomUUID() }), 403);
  });
});

describe('Alloc.GetAllocs', () => {
  test('returns own allocations, refuses foreign', async () => {
    const { call, apply } = setUp();
    const mine = await registerNode(call);
    const other = await registerNode(call, { Name: 'client-2' });
    const own = makeAlloc({ NodeID: mine.auth.NodeID });
    const foreign = makeAlloc({ NodeID: other.auth.NodeID, Name: 'web.frontend[1]' });
    const index = await place(apply, [own, foreign]);

    const response = await call('Alloc.GetAllocs', {
      ...mine.auth,
      AllocIDs: [own.ID, randomUUID()],
      MinQueryIndex: index - 1,
    });
    const allocs = response.Allocs as Allocation[];
    assert.deepEqual(
      allocs.map((alloc) => alloc.ID),
      [own.ID],
    );
    assert.equal(allocs[0]?.AllocModifyIndex, index);
    await rejectsWith(
      call('Alloc.GetAllocs', { ...mine.auth, AllocIDs: [foreign.ID], MinQueryIndex: 0 }),
      403,
    );
  });
});

describe('Alloc.UpdateAlloc', () => {
  test('records own allocation status', async () => {
    const { call, apply, state } = setUp();
    const { auth } = await registerNode(call);
    const alloc = makeAlloc({ NodeID: auth.NodeID });
    const placed = await place(apply, [alloc]);
    const response = await call('Alloc.UpdateAlloc', {
      ...auth,
      Allocs: [
        { ID: alloc.ID, ClientStatus: 'running', ClientDescription: 'Tasks are running', TaskStates: {} },
      ],
    });
    const stored = state.allocation(alloc.ID);
    assert.equal(stored?.ClientStatus, 'running');
    assert.equal(stored?.ModifyIndex, response.Index);
    // A client's own report does not move AllocModifyIndex, so it does not wake its own watch.
    assert.equal(stored?.AllocModifyIndex, placed);
  });

  test('foreign allocation is refused', async () => {
    const { call, apply, state } = setUp();
    const mine = await registerNode(call);
    const other = await registerNode(call, { Name: 'client-2' });
    const own = makeAlloc({ NodeID: mine.auth.NodeID });
    const foreign = makeAlloc({ NodeID: other.auth.NodeID, Name: 'web.frontend[1]' });
    await place(apply, [own, foreign]);
    const message = await rejectsWith(
      call('Alloc.UpdateAlloc', {
        ...mine.auth,
        Allocs: [
          { ID: own.ID, ClientStatus: 'running', TaskStates: {} },
          { ID: foreign.ID, ClientStatus: 'failed', TaskStates: {} },
        ],
      }),
      403,
    );
    assert.equal(message, 'Permission denied');
    assert.equal(state.allocation(own.ID)?.ClientStatus, 'pending');
    assert.equal(state.allocation(foreign.ID)?.ClientStatus, 'pending');
  });

  test('failed allocation creates an evaluation', async () => {
    const { call, apply, state } = setUp();
    const { auth } = await registerNode(call);
    const alloc = makeAlloc({ NodeID: auth.NodeID });
    await place(apply, [alloc]);
    await call('Alloc.UpdateAlloc', {
      ...auth,
      Allocs: [{ ID: alloc.ID, ClientStatus: 'failed', ClientDescription: 'Failed tasks', TaskStates: {} }],
    });
    const evals = state.evaluations().filter((evaluation) => evaluation.TriggeredBy === 'alloc-failure');
    assert.equal(evals.length, 1);
    assert.equal(evals[0]?.JobID, 'web');
  });

  test('invalid status is 400', async () => {
    const { call, apply } = setUp();
    const { auth } = await registerNode(call);
    const alloc = makeAlloc({ NodeID: auth.NodeID });
    await place(apply, [alloc]);
    await rejectsWith(
      call('Alloc.UpdateAlloc', {
        ...auth,
        Allocs: [{ ID: alloc.ID, ClientStatus: 'lost', TaskStates: {} }],
      }),
      400,
    );
  });
});

test('unknown method is 404', async () => {
  const { call } = setUp();
  assert.equal(await rejectsWith(call('Node.Explode', {}), 404), "rpc: can't find method Node.Explode");
});
