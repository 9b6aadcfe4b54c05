import assert from 'node:assert/strict';
import { loadavg } from 'node:os';
import { test } from 'node:test';
import { type CheckResult, checkHistory } from '../../../cluster/faults/checker/check.js';
import type { History } from '../../../cluster/faults/history.js';
import { Prng } from '../../sim/prng.js';
import { type GeneratorOptions, generateHistory } from './generate-history.js';
import { changeReadValue } from './mutate.js';

// The size the fault suite records in a long run: 10,000 operations over 10 keys from 8 processes.
// The bound is generous because the machine is shared. docs/faults.md has measured times.
const BOUND_MS = 30_000;

const CASES: readonly [string, Omit<GeneratorOptions, 'seed'>][] = [
  ['10 keys, no unknown', { operations: 10_000, keys: 10, processes: 8, unknownRate: 0, failRate: 0.02 }],
  ['10 keys, 2% unknown', { operations: 10_000, keys: 10, processes: 8, unknownRate: 0.02, failRate: 0.02 }],
  ['10 keys, 10% unknown', { operations: 10_000, keys: 10, processes: 8, unknownRate: 0.1, failRate: 0.02 }],
  ['1 key, 2% unknown', { operations: 10_000, keys: 1, processes: 8, unknownRate: 0.02, failRate: 0.02 }],
];

function timedCheck(history: History, t: { diagnostic: (message: string) => void }): CheckResult {
  const started = performance.now();
  const result = checkHistory(history);
  const elapsedMs = performance.now() - started;
  t.diagnostic(
    `${result.outcome} in ${elapsedMs.toFixed(0)} ms, ${result.statesVisited} states, load average ${loadavg()[0]!.toFixed(2)}`,
  );
  assert.ok(elapsedMs < BOUND_MS, `took ${elapsedMs.toFixed(0)} ms`);
  return result;
}

for (const [name, shape] of CASES) {
  test(`10,000 operations, ${name}`, (t) => {
    const history = generateHistory({ seed: 7, ...shape });
    assert.equal(timedCheck(history, t).outcome, 'linearizable');
  });

  test(`10,000 operations, ${name}, one read changed`, (t) => {
    const mutation = changeReadValue(generateHistory({ seed: 7, ...shape }), new Prng(7, 1));
    assert.ok(mutation !== null);
    const result = timedCheck(mutation.history, t);
    assert.equal(result.outcome, 'violation');
    assert.equal(result.outcome === 'violation' && result.violation.key, mutation.key);
  });
}
