import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkHistory } from '../../../cluster/faults/checker/check.js';
import type { History } from '../../../cluster/faults/history.js';
import { Prng } from '../../sim/prng.js';
import { generateHistory } from './generate-history.js';
import {
  changeReadValue,
  type Mutation,
  returnReadBeforeItsWrite,
  returnWriteBeforeStaleRead,
  swapReadOutputs,
} from './mutate.js';

/** Seeds that once failed. Each stays here as a fixed test. */
const REGRESSION_SEEDS: readonly number[] = [];

const MUTATIONS: readonly [string, (history: History, random: Prng) => Mutation | null][] = [
  ['change one read value', changeReadValue],
  ['swap two read outputs', swapReadOutputs],
  ['return a read before its write', returnReadBeforeItsWrite],
  ['return a write before a stale read', returnWriteBeforeStaleRead],
];

/** Mutates the history of `seed` and checks that the violation names the key and a changed operation. Returns false when the history offers no place for the mutation. */
function mutationCaught(seed: number, mutate: (history: History, random: Prng) => Mutation | null): boolean {
  const history = generateHistory({
    seed,
    operations: 240,
    keys: 2,
    processes: 5,
    unknownRate: 0.03,
    failRate: 0.03,
  });
  assert.equal(checkHistory(history).outcome, 'linearizable', `seed ${seed} before the mutation`);
  const mutation = mutate(history, new Prng(seed, 1));
  if (mutation === null) return false;

  const result = checkHistory(mutation.history);
  assert.equal(result.outcome, 'violation', `seed ${seed}: ${result.outcome}`);
  if (result.outcome !== 'violation') return true;
  assert.equal(result.violation.key, mutation.key, `seed ${seed}`);
  const ids = result.violation.operations.map((operation) => operation.id);
  assert.ok(
    ids.some((id) => mutation.changedIds.includes(id)),
    `seed ${seed}: window ${ids.join(',')} misses the changed operations ${mutation.changedIds.join(',')}`,
  );
  return true;
}

describe('mutated histories', () => {
  for (const [name, mutate] of MUTATIONS) {
    test(`${name}, seeds 1 to 40`, () => {
      let applied = 0;
      for (let seed = 1; seed <= 40; seed++) if (mutationCaught(seed, mutate)) applied++;
      // The generator makes enough overlap for each mutation in most seeds.
      assert.ok(applied >= 30, `only ${applied} of 40 seeds offered a place for the mutation`);
    });

    for (const seed of REGRESSION_SEEDS) {
      test(`${name}, regression seed ${seed}`, () => {
        mutationCaught(seed, mutate);
      });
    }
  }
});
