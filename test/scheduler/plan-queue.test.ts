import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SchedulerError } from '../../src/scheduler/errors.js';
import type { Plan } from '../../src/scheduler/plan.js';
import { PlanQueue } from '../../src/scheduler/plan-queue.js';

function planFor(evalId: string, priority: number): Plan {
  return {
    EvalID: evalId,
    JobID: `job-${evalId}`,
    Namespace: 'default',
    Priority: priority,
    NodeAllocation: {},
    NodeUpdate: {},
    SnapshotIndex: 0,
    FailedTGAllocs: {},
    FailedTGMetrics: {},
  };
}

const isDisabled = (err: unknown) => err instanceof SchedulerError && err.code === 'PLAN_QUEUE_DISABLED';

describe('PlanQueue', () => {
  test('serves higher priority first, then FIFO', async () => {
    const queue = new PlanQueue<string>();
    queue.setEnabled(true);
    const answers = [
      queue.enqueue(planFor('low', 10)),
      queue.enqueue(planFor('mid-1', 50)),
      queue.enqueue(planFor('high', 90)),
      queue.enqueue(planFor('mid-2', 50)),
    ];
    assert.equal(queue.size, 4);

    const order: string[] = [];
    for (let queued = queue.dequeue(); queued !== null; queued = queue.dequeue()) {
      order.push(queued.plan.EvalID);
      queued.respond(`applied ${queued.plan.EvalID}`);
    }
    assert.deepEqual(order, ['high', 'mid-1', 'mid-2', 'low']);
    assert.deepEqual(await Promise.all(answers), [
      'applied low',
      'applied mid-1',
      'applied high',
      'applied mid-2',
    ]);
  });

  test('passes the applier error to the submitter', async () => {
    const queue = new PlanQueue<string>();
    queue.setEnabled(true);
    const answer = queue.enqueue(planFor('e1', 50));
    queue.dequeue()!.fail(new Error('raft proposal dropped'));

    await assert.rejects(answer, { message: 'raft proposal dropped' });
  });

  test('wakes a waiting applier', async () => {
    const queue = new PlanQueue<number>();
    queue.setEnabled(true);
    const taken = queue.waitForPlan();
    const answer = queue.enqueue(planFor('e1', 50));
    const queued = await taken;
    queued.respond(7);

    assert.equal(queued.plan.EvalID, 'e1');
    assert.equal(await answer, 7);
    assert.equal(queue.size, 0);
  });

  test('rejects a waiting applier when its signal aborts', async () => {
    const queue = new PlanQueue<number>();
    queue.setEnabled(true);
    const controller = new AbortController();
    const taken = queue.waitForPlan(controller.signal);
    controller.abort(new Error('applier stopping'));

    await assert.rejects(taken, { message: 'applier stopping' });
    void queue.enqueue(planFor('e1', 50));
    assert.equal(queue.size, 1);
  });

  test('fails every queued plan when disabled', async () => {
    const queue = new PlanQueue<string>();
    queue.setEnabled(true);
    const first = queue.enqueue(planFor('e1', 50));
    const second = queue.enqueue(planFor('e2', 70));
    queue.setEnabled(false);

    await assert.rejects(first, (err: unknown) => isDisabled(err) && (err as SchedulerError).evalId === 'e1');
    await assert.rejects(second, isDisabled);
    assert.equal(queue.size, 0);
    assert.equal(queue.dequeue(), null);
    await assert.rejects(queue.enqueue(planFor('e3', 50)), isDisabled);
    await assert.rejects(queue.waitForPlan(), isDisabled);
  });

  test('rejects a waiting applier when disabled', async () => {
    const queue = new PlanQueue<string>();
    queue.setEnabled(true);
    const taken = queue.waitForPlan();
    queue.setEnabled(false);

    await assert.rejects(taken, isDisabled);
  });

  test('starts disabled', async () => {
    const queue = new PlanQueue<string>();
    assert.equal(queue.enabled, false);
    await assert.rejects(queue.enqueue(planFor('e1', 50)), isDisabled);
  });
});
