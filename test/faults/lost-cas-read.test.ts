import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHistory } from '../../cluster/faults/checker/check.js';
import { type VariableOperation, validateHistory } from '../../cluster/faults/history.js';
import {
  HistoryRecorder,
  OBSERVER_PROCESS_OFFSET,
  RUNNER_FIRST_PROCESS,
} from '../../cluster/faults/workload/recorder.js';

const KEY = 'faults/register-1';

/**
 * Records the shape that a one-way partition produced: a check-and-set times out (it took effect
 * at index 11), another client's check-and-set loses and its 409 reply shows index 11, and that
 * client deletes with check-and-set on 11.
 */
function record(withObservation: boolean): readonly VariableOperation[] {
  const recorder = new HistoryRecorder(0n);
  recorder.record(0, { kind: 'put', key: KEY, value: 'v1' }, 0, 10, { outcome: 'ok', output: { index: 10 } });
  recorder.record(1, { kind: 'cas', key: KEY, value: 'v2', casIndex: 10 }, 20, 30, {
    outcome: 'unknown',
    output: null,
  });
  recorder.record(2, { kind: 'cas', key: KEY, value: 'v3', casIndex: 10 }, 40, 50, {
    outcome: 'ok',
    output: { succeeded: false, index: null },
    currentIndex: 11,
    ...(withObservation ? { observed: { value: 'v2', index: 11 } } : {}),
  });
  recorder.record(2, { kind: 'delete', key: KEY, casIndex: 11 }, 60, 70, {
    outcome: 'ok',
    output: { succeeded: true },
  });
  return recorder.operations();
}

test('a lost check-and-set records the read its reply carries', () => {
  const operations = record(true);
  validateHistory({ operations });
  const observed = operations.find((operation) => operation.kind === 'get');
  assert.ok(observed !== undefined, 'no read was recorded');
  assert.equal(observed.process, OBSERVER_PROCESS_OFFSET + 2);
  assert.deepEqual([observed.callNs, observed.returnNs], [40, 50]);
  assert.deepEqual(observed.output, { value: 'v2', index: 11 });
  assert.equal(checkHistory({ operations }).outcome, 'linearizable');
});

test('without that read the checker cannot place the index', () => {
  // The false alarm that the read removes: no recorded operation returned index 11.
  assert.equal(checkHistory({ operations: record(false) }).outcome, 'violation');
});

test('runner calls never share an observer process', () => {
  // Client 0's lost check-and-set, whose read is open until 50, and the runner's first call, made
  // at 45 while the load stops. In one history they must belong to different processes.
  const load = new HistoryRecorder(0n);
  load.record(0, { kind: 'cas', key: KEY, value: 'v3', casIndex: 10 }, 40, 50, {
    outcome: 'ok',
    output: { succeeded: false, index: null },
    currentIndex: 11,
    observed: { value: 'v2', index: 11 },
  });
  const runner = new HistoryRecorder(0n, 1_000_000_000);
  runner.record(RUNNER_FIRST_PROCESS, { kind: 'put', key: 'faults/recovery', value: 'r1' }, 45, 60, {
    outcome: 'ok',
    output: { index: 12 },
  });
  const operations = [...load.operations(), ...runner.operations()];

  assert.ok(operations.some((operation) => operation.process === OBSERVER_PROCESS_OFFSET));
  validateHistory({ operations });
});
