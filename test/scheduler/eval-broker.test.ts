import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SchedulerError } from '../../src/scheduler/errors.js';
import { EvalBroker, type EvalBrokerOptions } from '../../src/scheduler/eval-broker.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import { makeEval, sequentialIds } from './fixtures.js';

function evalFor(id: string, jobId: string, priority = 50, namespace = 'default'): Evaluation {
  return makeEval(id, { ID: jobId, Namespace: namespace, Priority: priority, Type: 'service' });
}

function enabledBroker(options: Partial<EvalBrokerOptions> = {}): EvalBroker {
  const broker = new EvalBroker({ newToken: sequentialIds('token'), now: 0, ...options });
  broker.setEnabled(true);
  return broker;
}

function dequeueId(broker: EvalBroker): string | null {
  return broker.dequeue()?.eval.ID ?? null;
}

function assertSchedulerError(fn: () => unknown, code: SchedulerError['code']): void {
  assert.throws(fn, (err: unknown) => err instanceof SchedulerError && err.code === code);
}

describe('EvalBroker ordering', () => {
  test('serves higher priority first, then FIFO', () => {
    const broker = enabledBroker();
    broker.enqueue(evalFor('low', 'a', 10));
    broker.enqueue(evalFor('mid-1', 'b', 50));
    broker.enqueue(evalFor('high', 'c', 90));
    broker.enqueue(evalFor('mid-2', 'd', 50));

    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => dequeueId(broker)),
      ['high', 'mid-1', 'mid-2', 'low', null],
    );
  });

  test('holds later evaluations of a job until the first is acked', () => {
    const broker = enabledBroker();
    broker.enqueue(evalFor('e1', 'web'));
    broker.enqueue(evalFor('e2', 'web'));
    broker.enqueue(evalFor('e3', 'web', 80));
    broker.enqueue(evalFor('other-ns', 'web', 50, 'prod'));

    const first = broker.dequeue()!;
    assert.equal(first.eval.ID, 'e1');
    assert.equal(dequeueId(broker), 'other-ns');
    assert.equal(broker.dequeue(), null);
    assert.equal(broker.stats().totalPending, 2);

    broker.ack('e1', first.token);
    // The waiting evaluation of higher priority goes first.
    const second = broker.dequeue()!;
    assert.equal(second.eval.ID, 'e3');
    assert.equal(broker.dequeue(), null);
    broker.ack('e3', second.token);
    assert.equal(dequeueId(broker), 'e2');
  });

  test('keeps the job slot across a nack', () => {
    const broker = enabledBroker({ initialNackDelayMs: 0 });
    broker.enqueue(evalFor('e1', 'web'));
    broker.enqueue(evalFor('e2', 'web'));
    const first = broker.dequeue()!;
    broker.nack('e1', first.token);
    broker.tick(0);

    assert.equal(dequeueId(broker), 'e1');
    assert.equal(broker.dequeue(), null);
  });

  test('ignores an evaluation enqueued twice', () => {
    const broker = enabledBroker();
    assert.equal(broker.enqueue(evalFor('e1', 'web')), true);
    assert.equal(broker.enqueue(evalFor('e1', 'web')), true);
    const delivery = broker.dequeue()!;
    assert.equal(broker.enqueue(evalFor('e1', 'web')), true);

    assert.equal(broker.dequeue(), null);
    assert.deepEqual(broker.stats(), {
      totalReady: 0,
      totalUnacked: 1,
      totalPending: 0,
      totalWaiting: 0,
      totalFailed: 0,
      totalWaiters: 0,
    });
    broker.ack('e1', delivery.token);
    assert.equal(broker.stats().totalUnacked, 0);
  });
});

describe('EvalBroker redelivery', () => {
  test('redelivers a nacked evaluation after the nack delays', () => {
    const broker = enabledBroker();
    broker.enqueue(evalFor('e1', 'web'));
    const first = broker.dequeue()!;
    broker.nack('e1', first.token);
    assert.equal(broker.stats().totalWaiting, 1);

    broker.tick(999);
    assert.equal(broker.dequeue(), null);
    broker.tick(1_000);
    const second = broker.dequeue()!;
    assert.equal(second.eval.ID, 'e1');
    assert.notEqual(second.token, first.token);

    // Later nacks wait the longer delay.
    broker.nack('e1', second.token);
    broker.tick(20_999);
    assert.equal(broker.dequeue(), null);
    broker.tick(21_000);
    assert.equal(dequeueId(broker), 'e1');
  });

  test('takes back a delivery past the nack timeout', () => {
    const broker = enabledBroker({ nackTimeoutMs: 5_000, initialNackDelayMs: 0 });
    broker.enqueue(evalFor('e1', 'web'));
    const first = broker.dequeue()!;
    broker.tick(4_999);
    assert.equal(broker.outstandingToken('e1'), first.token);

    broker.tick(5_000);
    assert.equal(broker.outstandingToken('e1'), null);
    const second = broker.dequeue()!;
    assert.equal(second.eval.ID, 'e1');
    assertSchedulerError(() => broker.ack('e1', first.token), 'TOKEN_MISMATCH');
    broker.ack('e1', second.token);
    assertSchedulerError(() => broker.ack('e1', second.token), 'EVAL_NOT_OUTSTANDING');
  });

  test('does not time out a paused delivery', () => {
    const broker = enabledBroker({ nackTimeoutMs: 5_000 });
    broker.enqueue(evalFor('e1', 'web'));
    const delivery = broker.dequeue()!;
    broker.pauseNackTimeout('e1', delivery.token);
    broker.tick(60_000);
    assert.equal(broker.outstandingToken('e1'), delivery.token);

    broker.resumeNackTimeout('e1', delivery.token);
    broker.tick(64_999);
    assert.equal(broker.outstandingToken('e1'), delivery.token);
    broker.tick(65_000);
    assert.equal(broker.outstandingToken('e1'), null);
  });

  test('moves an evaluation to the failed list at the delivery limit', () => {
    const broker = enabledBroker({ initialNackDelayMs: 0, subsequentNackDelayMs: 0 });
    broker.enqueue(evalFor('e1', 'web'));
    broker.enqueue(evalFor('e2', 'web'));
    for (let delivery = 1; delivery <= 3; delivery++) {
      const next = broker.dequeue()!;
      assert.equal(next.eval.ID, 'e1', `delivery ${delivery}`);
      broker.nack('e1', next.token);
      broker.tick(delivery);
    }

    assert.equal(broker.stats().totalFailed, 1);
    // The job's next evaluation is released once the first one fails.
    assert.equal(dequeueId(broker), 'e2');
    assert.deepEqual(
      broker.takeFailed().map((evaluation) => evaluation.ID),
      ['e1'],
    );
    assert.equal(broker.stats().totalFailed, 0);
  });

  test('counts timeouts toward the delivery limit', () => {
    const broker = enabledBroker({
      nackTimeoutMs: 10,
      deliveryLimit: 2,
      initialNackDelayMs: 0,
      subsequentNackDelayMs: 0,
    });
    broker.enqueue(evalFor('e1', 'web'));
    broker.dequeue();
    broker.tick(10);
    broker.dequeue();
    broker.tick(20);

    assert.equal(broker.dequeue(), null);
    assert.deepEqual(
      broker.takeFailed().map((evaluation) => evaluation.ID),
      ['e1'],
    );
  });

  test('rejects an ack with an unknown token or evaluation', () => {
    const broker = enabledBroker();
    broker.enqueue(evalFor('e1', 'web'));
    broker.dequeue();

    assertSchedulerError(() => broker.ack('e1', 'forged'), 'TOKEN_MISMATCH');
    assertSchedulerError(() => broker.nack('e1', 'forged'), 'TOKEN_MISMATCH');
    assertSchedulerError(() => broker.ack('missing', 'token-1'), 'EVAL_NOT_OUTSTANDING');
  });

  test('validates its options', () => {
    assert.throws(() => new EvalBroker({ newToken: sequentialIds('t'), deliveryLimit: 0 }), RangeError);
    assert.throws(() => new EvalBroker({ newToken: sequentialIds('t'), initialNackDelayMs: -1 }), RangeError);
  });
});

describe('EvalBroker waiters and leadership', () => {
  test('hands evaluations to parked workers in order', async () => {
    const broker = enabledBroker();
    const first = broker.waitForEval();
    const second = broker.waitForEval();
    assert.equal(broker.stats().totalWaiters, 2);

    broker.enqueue(evalFor('e1', 'a'));
    broker.enqueue(evalFor('e2', 'b'));
    assert.equal((await first).eval.ID, 'e1');
    assert.equal((await second).eval.ID, 'e2');
    assert.equal(broker.stats().totalUnacked, 2);
  });

  test('wakes a parked worker when a nack delay ends', async () => {
    const broker = enabledBroker();
    broker.enqueue(evalFor('e1', 'a'));
    const delivery = broker.dequeue()!;
    broker.nack('e1', delivery.token);
    const waiting = broker.waitForEval();
    broker.tick(1_000);

    assert.equal((await waiting).eval.ID, 'e1');
  });

  test('rejects a parked worker when its signal aborts', async () => {
    const broker = enabledBroker();
    const controller = new AbortController();
    const waiting = broker.waitForEval(controller.signal);
    controller.abort(new Error('worker stopping'));

    await assert.rejects(waiting, { message: 'worker stopping' });
    assert.equal(broker.stats().totalWaiters, 0);
    broker.enqueue(evalFor('e1', 'a'));
    assert.equal(broker.stats().totalReady, 1);
  });

  test('drops everything when disabled', async () => {
    const broker = enabledBroker();
    broker.enqueue(evalFor('unacked', 'b'));
    broker.enqueue(evalFor('nacked', 'c'));
    broker.enqueue(evalFor('ready', 'a'));
    broker.enqueue(evalFor('pending', 'a'));
    const unacked = broker.dequeue()!;
    broker.nack('nacked', broker.dequeue()!.token);
    assert.deepEqual(broker.stats(), {
      totalReady: 1,
      totalUnacked: 1,
      totalPending: 1,
      totalWaiting: 1,
      totalFailed: 0,
      totalWaiters: 0,
    });

    broker.setEnabled(false);
    assert.deepEqual(broker.stats(), {
      totalReady: 0,
      totalUnacked: 0,
      totalPending: 0,
      totalWaiting: 0,
      totalFailed: 0,
      totalWaiters: 0,
    });
    assert.equal(broker.enqueue(evalFor('late', 'd')), false);
    assert.equal(broker.dequeue(), null);
    await assert.rejects(
      broker.waitForEval(),
      (err: unknown) => err instanceof SchedulerError && err.code === 'BROKER_DISABLED',
    );
    assertSchedulerError(() => broker.ack('unacked', unacked.token), 'EVAL_NOT_OUTSTANDING');

    // A new term starts empty and takes the evaluations restored from state.
    broker.setEnabled(true);
    broker.enqueue(evalFor('pending', 'a'));
    assert.equal(dequeueId(broker), 'pending');
  });

  test('rejects parked workers when disabled', async () => {
    const broker = enabledBroker();
    const waiting = broker.waitForEval();
    broker.setEnabled(false);

    await assert.rejects(
      waiting,
      (err: unknown) => err instanceof SchedulerError && err.code === 'BROKER_DISABLED',
    );
  });
});
