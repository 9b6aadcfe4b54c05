import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHistory } from '../../../cluster/faults/checker/check.js';
import { Prng } from '../../sim/prng.js';
import { referenceLinearizable } from './reference-checker.js';
import { randomHistory } from './tiny-history.js';

const RUNS = [
  { histories: 20_000, maxOperations: 6, unknownRate: 0.15 },
  { histories: 4_000, maxOperations: 7, unknownRate: 0.35 },
];

for (const run of RUNS) {
  test(`checker agrees with the reference, ${run.maxOperations} ops, unknown ${run.unknownRate}`, () => {
    const random = new Prng(2026 + run.maxOperations);
    const counts = { linearizable: 0, violation: 0 };
    for (let n = 0; n < run.histories; n++) {
      const history = randomHistory(random, run.maxOperations, run.unknownRate);
      const expected = referenceLinearizable(history);
      const result = checkHistory(history);
      assert.notEqual(result.outcome, 'unknown');
      assert.equal(
        result.outcome === 'linearizable',
        expected,
        `history ${n}: reference ${expected}, checker ${result.outcome}\n${JSON.stringify(history.operations)}`,
      );
      counts[result.outcome === 'linearizable' ? 'linearizable' : 'violation']++;
    }
    // Both outcomes must be common, or the comparison proves little.
    assert.ok(counts.linearizable > run.histories / 10, JSON.stringify(counts));
    assert.ok(counts.violation > run.histories / 10, JSON.stringify(counts));
  });
}
