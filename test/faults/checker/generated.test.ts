import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHistory } from '../../../cluster/faults/checker/check.js';
import { validateHistory } from '../../../cluster/faults/history.js';
import { type GeneratorOptions, generateHistory } from './generate-history.js';

/** Seeds that once failed. Each stays here as a fixed test. */
const REGRESSION_SEEDS: readonly number[] = [];

const SHAPES: readonly Omit<GeneratorOptions, 'seed'>[] = [
  { operations: 200, keys: 2, processes: 4, unknownRate: 0, failRate: 0 },
  { operations: 300, keys: 3, processes: 6, unknownRate: 0.03, failRate: 0.03 },
  { operations: 300, keys: 1, processes: 8, unknownRate: 0.1, failRate: 0.05 },
];

function checkSeed(seed: number, shape: Omit<GeneratorOptions, 'seed'>): void {
  const history = generateHistory({ seed, ...shape });
  validateHistory(history);
  const result = checkHistory(history);
  assert.equal(result.outcome, 'linearizable', `seed ${seed}: ${JSON.stringify(result).slice(0, 2000)}`);
}

describe('generated linearizable histories', () => {
  for (const shape of SHAPES) {
    const label = `${shape.operations} ops, ${shape.keys} keys, ${shape.processes} processes, unknown ${shape.unknownRate}`;
    test(`${label}, seeds 1 to 60`, () => {
      for (let seed = 1; seed <= 60; seed++) checkSeed(seed, shape);
    });
  }

  for (const seed of REGRESSION_SEEDS) {
    test(`regression seed ${seed}`, () => {
      for (const shape of SHAPES) checkSeed(seed, shape);
    });
  }

  test('generator records every outcome', () => {
    const history = generateHistory({ seed: 11, ...SHAPES[1]! });
    const outcomes = new Set(history.operations.map((operation) => operation.outcome));
    assert.deepEqual([...outcomes].sort(), ['fail', 'ok', 'unknown']);
    const kinds = new Set(history.operations.map((operation) => operation.kind));
    assert.deepEqual([...kinds].sort(), ['cas', 'delete', 'get', 'put']);
    const casResults = history.operations.flatMap((operation) =>
      operation.kind === 'cas' && operation.output !== null ? [operation.output.succeeded] : [],
    );
    assert.ok(casResults.includes(true), 'some cas should succeed');
    assert.ok(casResults.includes(false), 'some cas should be rejected');
  });
});
