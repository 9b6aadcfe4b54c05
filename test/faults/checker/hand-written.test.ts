import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CheckResult, checkHistory } from '../../../cluster/faults/checker/check.js';
import type { History } from '../../../cluster/faults/history.js';
import { at, cas, del, failed, get, history, put } from './operations.js';

/** Returns the violation of `result`, failing the test when there is none. */
function violationOf(result: CheckResult) {
  assert.equal(result.outcome, 'violation', `expected a violation, got ${JSON.stringify(result)}`);
  if (result.outcome !== 'violation') throw new Error('unreachable');
  return result.violation;
}

function windowIds(h: History): number[] {
  return violationOf(checkHistory(h))
    .operations.map((operation) => operation.id)
    .sort((a, b) => a - b);
}

describe('linearizable histories', () => {
  const cases: [string, History][] = [
    ['empty history', history()],
    ['sequential put then get', history(put(at(0, 0, 10), 'a', 5), get(at(1, 20, 30), 'a', 5))],
    ['get of an absent key', history(get(at(0, 0, 10), null))],
    [
      'read overlapping a write sees either value',
      history(
        put(at(0, 0, 10), 'a', 5),
        put(at(1, 20, 60), 'b', 9),
        get(at(2, 25, 30), 'b', 9),
        get(at(3, 26, 50), 'a', 5),
      ),
    ],
    [
      'cas with index 0 creates an absent key',
      history(cas(at(0, 0, 10), 'a', 0, 4), get(at(1, 20, 30), 'a', 4)),
    ],
    [
      'cas with index 0 is rejected on a present key',
      history(put(at(0, 0, 10), 'a', 4), cas(at(1, 20, 30), 'b', 0, null), get(at(1, 40, 50), 'a', 4)),
    ],
    ['cas on a missing key is rejected', history(cas(at(0, 0, 10), 'a', 7, null), get(at(1, 20, 30), null))],
    [
      'cas on the current index succeeds',
      history(put(at(0, 0, 10), 'a', 4), cas(at(1, 20, 30), 'b', 4, 8), get(at(0, 40, 50), 'b', 8)),
    ],
    [
      'two concurrent cas on one index, one wins',
      history(
        put(at(0, 0, 10), 'a', 4),
        cas(at(1, 20, 40), 'b', 4, 8),
        cas(at(2, 21, 41), 'c', 4, null),
        get(at(0, 50, 60), 'b', 8),
      ),
    ],
    [
      'delete-cas with index 0 on an absent key succeeds',
      history(del(at(0, 0, 10), 0, true), get(at(1, 20, 30), null)),
    ],
    [
      'delete-cas with an old index is rejected',
      history(
        put(at(0, 0, 10), 'a', 4),
        put(at(0, 20, 30), 'b', 6),
        del(at(1, 40, 50), 4, false),
        get(at(1, 60, 70), 'b', 6),
      ),
    ],
    [
      'delete-cas with the current index removes the key',
      history(put(at(0, 0, 10), 'a', 4), del(at(1, 20, 30), 4, true), get(at(2, 40, 50), null)),
    ],
    [
      'unknown put that took effect',
      history(put(at(0, 0, null), 'a', 0), get(at(1, 20, 30), 'a', 5), cas(at(1, 40, 50), 'b', 5, 9)),
    ],
    [
      'unknown put that never took effect',
      history(put(at(0, 0, null), 'a', 0), get(at(1, 20, 30), null), get(at(2, 40, 50), null)),
    ],
    [
      'unknown put taking effect long after its call',
      history(put(at(0, 0, null), 'a', 0), get(at(1, 20, 30), null), get(at(2, 1000, 1010), 'a', 11)),
    ],
    [
      'unknown unread put explains a rejected cas',
      history(put(at(0, 0, 10), 'a', 4), put(at(1, 20, null), 'x', 0), cas(at(2, 40, 50), 'b', 4, null)),
    ],
    [
      'failed put is ignored',
      history(put(at(0, 0, 10), 'a', 4), failed(put(at(1, 20, 30), 'b', 0)), get(at(2, 40, 50), 'a', 4)),
    ],
    [
      'unchanged write keeps its index',
      history(put(at(0, 0, 10), 'a', 4), put(at(1, 20, 30), 'a', 4), get(at(2, 40, 50), 'a', 4)),
    ],
    [
      'keys are independent',
      history(
        put(at(0, 0, 10, 'x'), 'a', 4),
        put(at(1, 0, 10, 'y'), 'a', 5),
        get(at(2, 20, 30, 'y'), 'a', 5),
      ),
    ],
  ];
  for (const [name, h] of cases) {
    test(name, () => {
      assert.equal(checkHistory(h).outcome, 'linearizable');
    });
  }
});

describe('violations', () => {
  test('stale read', () => {
    const h = history(put(at(0, 0, 10), 'a', 5), put(at(1, 20, 30), 'b', 6), get(at(2, 40, 50), 'a', 5));
    assert.deepEqual(windowIds(h), [1, 2]);
    assert.equal(violationOf(checkHistory(h)).start, 'any-earlier-value');
  });

  test('lost write', () => {
    const h = history(put(at(0, 0, 10), 'a', 5), get(at(1, 20, 30), null));
    assert.deepEqual(windowIds(h), [0, 1]);
    assert.equal(violationOf(checkHistory(h)).start, 'absent-key');
  });

  test('lost write after a later read', () => {
    const h = history(
      put(at(0, 0, 10), 'a', 5),
      get(at(1, 20, 30), 'a', 5),
      put(at(0, 40, 50), 'b', 7),
      get(at(1, 60, 70), 'a', 5),
    );
    assert.deepEqual(windowIds(h), [2, 3]);
  });

  test('cas that succeeded twice', () => {
    const h = history(
      put(at(0, 0, 10), 'a', 5),
      cas(at(1, 20, 40), 'b', 5, 6),
      cas(at(2, 25, 45), 'c', 5, 7),
    );
    assert.deepEqual(windowIds(h), [1, 2]);
  });

  test('read of a value never written', () => {
    const h = history(put(at(0, 0, 10), 'a', 5), get(at(1, 20, 30), 'z', 9));
    assert.deepEqual(windowIds(h), [1]);
  });

  test('read before its write was called', () => {
    const h = history(get(at(1, 0, 10), 'a', 5), put(at(0, 20, 30), 'a', 5));
    assert.deepEqual(windowIds(h), [0]);
  });

  test('read of a failed write', () => {
    const h = history(failed(put(at(0, 0, 10), 'a', 0)), get(at(1, 20, 30), 'a', 5));
    assert.deepEqual(windowIds(h), [1]);
  });

  test('cas on a missing key that succeeded', () => {
    const h = history(cas(at(0, 0, 10), 'a', 7, 8));
    assert.deepEqual(windowIds(h), [0]);
  });

  test('cas with index 0 on a present key that succeeded', () => {
    const h = history(put(at(0, 0, 10), 'a', 4), cas(at(1, 20, 30), 'b', 0, 6));
    assert.deepEqual(windowIds(h), [0, 1]);
  });

  test('cas rejected on its current index', () => {
    const h = history(put(at(0, 0, 10), 'a', 4), cas(at(1, 20, 30), 'b', 4, null));
    assert.deepEqual(windowIds(h), [0, 1]);
  });

  test('delete-cas rejected with index 0 on an absent key', () => {
    const h = history(del(at(0, 0, 10), 0, false));
    assert.deepEqual(windowIds(h), [0]);
  });

  test('write index going backwards', () => {
    const h = history(put(at(0, 0, 10), 'a', 9), put(at(1, 20, 30), 'b', 4));
    assert.deepEqual(windowIds(h), [0, 1]);
  });

  test('read index differs from the write', () => {
    const h = history(put(at(0, 0, 10), 'a', 9), get(at(1, 20, 30), 'a', 8));
    assert.deepEqual(windowIds(h), [0, 1]);
  });

  test('read after a completed delete', () => {
    const h = history(put(at(0, 0, 10), 'a', 4), del(at(1, 20, 30)), get(at(2, 40, 50), 'a', 4));
    assert.deepEqual(windowIds(h), [1, 2]);
  });

  test('unknown write cannot take effect before its call', () => {
    const h = history(get(at(1, 0, 10), 'a', 5), put(at(0, 20, null), 'a', 0));
    assert.deepEqual(windowIds(h), [0]);
  });

  test('violation on the second key names that key', () => {
    const h = history(
      put(at(0, 0, 10, 'x'), 'a', 4),
      get(at(1, 20, 30, 'x'), 'a', 4),
      put(at(0, 40, 50, 'y'), 'b', 6),
      get(at(1, 60, 70, 'y'), null),
    );
    const result = checkHistory(h);
    assert.equal(violationOf(result).key, 'y');
    assert.equal(result.outcome === 'violation' && result.violatingKeys.join(), 'y');
  });

  test('unnarrowed violation lists the whole key', () => {
    const h = history(put(at(0, 0, 10), 'a', 5), put(at(1, 20, 30), 'b', 6), get(at(2, 40, 50), 'a', 5));
    const violation = violationOf(checkHistory(h, { narrowWindow: false }));
    assert.equal(violation.operations.length, 3);
  });
});

describe('search budget', () => {
  // Many concurrent writes and a read no order explains: the search must visit many configurations.
  const concurrent = history(
    ...Array.from({ length: 12 }, (_, i) => put(at(i, 0, 100), `v${i}`, i + 1)),
    get(at(20, 200, 210), 'never-written', 99),
  );

  test('exhausted budget reports unknown, never linearizable', () => {
    const result = checkHistory(concurrent, { budget: 50 });
    assert.equal(result.outcome, 'unknown');
    assert.equal(result.outcome === 'unknown' && result.reason, 'budget-exhausted');
    assert.deepEqual(result.outcome === 'unknown' && result.exhaustedKeys, ['k']);
  });

  test('enough budget finds the violation', () => {
    assert.equal(checkHistory(concurrent).outcome, 'violation');
  });

  test('exhausted budget on a linearizable key is unknown', () => {
    const h = history(
      ...Array.from({ length: 12 }, (_, i) => put(at(i, 0, 100), `v${i}`, i + 1)),
      get(at(20, 200, 210), 'v11', 12),
    );
    assert.equal(checkHistory(h, { budget: 1 }).outcome, 'unknown');
  });
});
