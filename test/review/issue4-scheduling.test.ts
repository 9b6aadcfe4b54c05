import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { computePlan, EvalBroker, PlanQueue } from '../../src/scheduler/index.js';
import { ClientEndpoints } from '../../src/server/client-endpoints.js';
import { nowNanos } from '../../src/server/scheduling/evaluations.js';
import { type PlanResult, runPlanApplier } from '../../src/server/scheduling/plan-applier.js';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import { StateStore } from '../../src/state/store.js';
import { isTerminal } from '../../src/structs/allocation.js';
import { waitFor } from '../raft/driver/harness.js';
import { makeEval, makeGroup, makeJob, makeNode, makeTask } from '../scheduler/fixtures.js';
import { startLeaderServer } from '../support/leader-server.js';

// Faults found by review in the leader's scheduling services (broker, workers, plan applier, eval
// watcher) and in the client endpoints. Each test asserts the behaviour expected once the fault is
// fixed.

const silent = pino({ level: 'silent' });

/** Starts one server on LevelDB that runs the leader's scheduling services, as the agent wires them. */

describe('review: leader scheduling faults', () => {
  test('plan of large allocations commits', {}, async (t) => {
    const leader = await startLeaderServer(t);
    await leader.addNode(makeNode('big', { NodeResources: { CPU: 10_000_000, MemoryMB: 10_000_000 } }));
    // Twenty tasks per group: each allocation carries twenty TaskResources entries, about
    // 1,380 bytes, so a chunk of 1,000 allocations is about 1.38 MB, above the 1 MiB entry limit.
    const tasks = Array.from({ length: 20 }, (_, i) =>
      makeTask(`task-with-a-longish-name-${i}`, { CPU: 10, MemoryMB: 10 }),
    );
    await leader.register(makeJob('wide', [makeGroup('g', 1000, tasks)]));
    await waitFor(() => leader.liveAllocs('wide').length === 1000, 20_000, '1,000 allocations');
  });

  test('4,000 blocked evaluations unblock', {}, async (t) => {
    const leader = await startLeaderServer(t);
    const small = { CPU: 100, MemoryMB: 64 };
    await leader.register(makeJob('late', [makeGroup('g', 1, [makeTask('t', small)])]));
    await waitFor(
      () => leader.store.evaluationsByJob('default', 'late').find((e) => e.Status === 'blocked'),
      10_000,
      'the job to wait blocked',
    );
    // Other jobs waiting for capacity: 4,000 blocked evaluations, inserted 500 per entry.
    const ghost = makeJob('ghost', []);
    for (let batch = 0; batch < 8; batch++) {
      const evals = Array.from({ length: 500 }, () =>
        makeEval(randomUUID(), ghost, {
          Status: 'blocked',
          TriggeredBy: 'queued-allocs',
          StatusDescription: 'waiting to place 3 of group g',
          QueuedAllocations: { g: 3 },
          PreviousEval: randomUUID(),
        }),
      );
      await leader.commit({ type: 'eval-upsert', v: 1, evals });
    }
    // The unblock writes every blocked evaluation in one eval-upsert (about 1.45 MB here),
    // which the leader drops, every second, for ever.
    await leader.addNode(makeNode('n1'));
    await waitFor(() => leader.liveAllocs('late').length === 1, 10_000, 'the blocked job placed');
  });

  test('stopped plan applier proposes nothing', {}, async () => {
    const store = new StateStore();
    let index = 1;
    const setup = (command: Command) => {
      const result = store.apply(++index, encodeCommand(command));
      assert.ok(result.ok, result.ok ? '' : result.message);
    };
    const node = makeNode('n1', { NodeResources: { CPU: 1000, MemoryMB: 1024 } });
    setup({ type: 'node-register', v: 1, node });
    const jobs = ['a', 'b'].map((id) =>
      makeJob(id, [makeGroup('g', 1, [makeTask('t', { CPU: 400, MemoryMB: 64 })])]),
    );
    for (const job of jobs) setup({ type: 'job-register', v: 1, job, eval: null });
    const plans = jobs.map((job) =>
      computePlan({
        eval: makeEval(`eval-${job.ID}`, job),
        job,
        nodes: [node],
        allocs: [],
        nodeAllocs: new Map(),
        newId: randomUUID,
        now: nowNanos(),
      }),
    );

    // The first proposal stays uncommitted, as on a leader that lost its quorum.
    const proposals: Command[] = [];
    let commitFirst: (index: number) => void = () => undefined;
    const commit = (command: Command): Promise<number> => {
      proposals.push(command);
      if (proposals.length === 1) return new Promise((resolve) => (commitFirst = resolve));
      return Promise.resolve(100 + proposals.length);
    };
    const queue = new PlanQueue<PlanResult>();
    queue.setEnabled(true);
    const abort = new AbortController();
    const applier = runPlanApplier(
      // Identities are not under test here: the plan's allocations pass through unsigned.
      { state: store, queue, commit, sign: async (allocs) => [...allocs], now: nowNanos, logger: silent },
      abort.signal,
    );

    const first = queue.enqueue(plans[0]!).catch(() => undefined);
    await waitFor(() => proposals.length === 1 || undefined, 5_000, 'the first proposal');
    // The second plan fits beside the first (800 of 1,000 MHz). The applier checks it, then
    // waits for the first proposal to settle before it proposes the second.
    const second = queue.enqueue(plans[1]!).catch(() => undefined);
    await waitFor(() => queue.size === 0 || undefined, 5_000, 'the applier to take the second plan');

    // Leadership is lost: LeaderScheduling.stop aborts the loop and disables the queue. The
    // server then wins the next election and its old entry commits in the new term.
    abort.abort();
    queue.setEnabled(false);
    commitFirst(50);
    await applier;
    await Promise.all([first, second]);

    assert.equal(
      proposals.length,
      1,
      'a stopped applier proposed a batch that it checked in the old term, unknown to the new term',
    );
  });

  test('node down: late placement gets an evaluation', {}, async () => {
    const store = new StateStore();
    let index = 1;
    const applyHere = (command: Command): number => {
      const result = store.apply(++index, encodeCommand(command));
      assert.ok(result.ok, result.ok ? '' : result.message);
      return index;
    };
    applyHere({ type: 'node-register', v: 1, node: makeNode('n1') });
    const job = makeJob('web', [makeGroup('g', 1, [makeTask('t', { CPU: 100, MemoryMB: 64 })])]);
    applyHere({ type: 'job-register', v: 1, job, eval: null });
    const plan = computePlan({
      eval: makeEval('eval-web', job),
      job,
      nodes: [store.node('n1')!],
      allocs: [],
      nodeAllocs: new Map(),
      newId: randomUUID,
      now: nowNanos(),
    });
    const placed = plan.NodeAllocation.n1!;

    // The plan applier checked this placement while n1 was ready and proposed it. Its entry
    // lands just before the node-status entry that expireNode proposes after reading the state.
    const endpoints = new ClientEndpoints({
      state: store,
      logger: silent,
      apply: async (command) => {
        applyHere({ type: 'plan-apply', v: 2, place: placed, stop: [], evals: [], time: nowNanos() });
        return { index: applyHere(command) };
      },
      consistentRead: async () => undefined,
      servers: () => [],
      heartbeat: async () => 10_000,
      newId: randomUUID,
      now: Date.now,
    });
    await endpoints.expireNode('n1');

    assert.equal(store.node('n1')?.Status, 'down');
    const live = store.allocationsByNode('n1').filter((alloc) => !isTerminal(alloc));
    assert.equal(live.length, 1, 'the placement sits on the down node');
    const pending = store.evaluationsByJob('default', 'web').filter((e) => e.Status === 'pending');
    assert.ok(pending.length > 0, 'no evaluation will replace the allocation on the down node');
  });

  test('blocked evaluation: no re-run without freed capacity', {}, async (t) => {
    const leader = await startLeaderServer(t);
    await leader.addNode(makeNode('n1', { NodeResources: { CPU: 1000, MemoryMB: 1024 } }));
    await leader.register(makeJob('huge', [makeGroup('g', 1, [makeTask('t', { CPU: 5000, MemoryMB: 64 })])]));
    const blocked = await waitFor(
      () => leader.store.evaluationsByJob('default', 'huge').find((e) => e.Status === 'blocked'),
      10_000,
      'the job to wait blocked',
    );
    await leader.register(makeJob('run', [makeGroup('g', 1, [makeTask('t', { CPU: 100, MemoryMB: 64 })])]));
    const [running] = await waitFor(
      () => {
        const live = leader.liveAllocs('run');
        return live.length === 1 ? live : undefined;
      },
      10_000,
      'the small job placed',
    );

    // A client reports its allocation three times. Nothing stops and no node joins, so no
    // capacity frees up: the blocked evaluation has no reason to run again.
    const reruns = new Set<number>();
    for (let report = 0; report < 3; report++) {
      await leader.commit({
        type: 'alloc-client-update',
        v: 1,
        updates: [
          { ID: running!.ID, ClientStatus: 'running', ClientDescription: `report ${report}`, TaskStates: {} },
        ],
        evals: [],
        time: nowNanos(),
      });
      const round = new AbortController();
      const timer = setTimeout(() => round.abort(), 1500);
      await leader.store.waitForChange('evals', leader.store.tableIndex('evals'), round.signal);
      clearTimeout(timer);
      round.abort();
      const modified = leader.store.evaluation(blocked.ID)!.ModifyIndex;
      if (modified !== blocked.ModifyIndex) reruns.add(modified);
    }
    assert.deepEqual([...reruns], [], 'the blocked evaluation was re-run after client status reports');
  });

  test('failed evaluation: not delivered again', {}, () => {
    const broker = new EvalBroker({ newToken: randomUUID, deliveryLimit: 1 });
    broker.setEnabled(true);
    const evaluation = makeEval('e1', makeJob('web', []));
    broker.enqueue(evaluation);
    const delivery = broker.dequeue()!;
    broker.nack(delivery.eval.ID, delivery.token);
    assert.deepEqual(
      broker.takeFailed().map((e) => e.ID),
      ['e1'],
    );
    // The leader proposes the failed status. Until that entry applies, the state still records
    // the evaluation as pending, so the eval watcher's next scan enqueues it again.
    broker.enqueue(evaluation);
    assert.equal(broker.dequeue(), null, 'the failed evaluation was delivered again with a fresh count');
  });
});
