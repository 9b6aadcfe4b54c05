import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { test } from 'node:test';
import { checkHistory } from '../../../cluster/faults/checker/check.js';
import { generateHistory } from './generate-history.js';

// The size the fault suite records in a long run: 10,000 operations over 10 keys from 8 processes.
// The bound is generous because the machine is shared; docs/faults.md has measured times.
const BOUND_MS = 30_000;

for (const unknownRate of [0, 0.02, 0.1]) {
  test(`10,000 operations, unknown rate ${unknownRate}`, (t) => {
    const history = generateHistory({
      seed: 7,
      operations: 10_000,
      keys: 10,
      processes: 8,
      unknownRate,
      failRate: 0.02,
    });
    const started = performance.now();
    const result = checkHistory(history);
    const elapsedMs = performance.now() - started;
    t.diagnostic(
      `checked in ${elapsedMs.toFixed(0)} ms, ${result.statesVisited} states, load average ${loadavg()[0]!.toFixed(2)}`,
    );
    assert.equal(result.outcome, 'linearizable');
    assert.ok(elapsedMs < BOUND_MS, `took ${elapsedMs.toFixed(0)} ms`);
  });
}
