import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkHistory } from '../../../cluster/faults/checker/check.js';
import type { History, Outcome, VariableOperation } from '../../../cluster/faults/history.js';
import { Prng } from '../../sim/prng.js';
import { referenceLinearizable } from './reference-checker.js';

/**
 * A random tiny history on one key, most of them not linearizable: random outputs drawn from few
 * values and indexes, so that the two checkers meet every rule. Written values are unique, as the
 * fault suite writes them.
 */
function randomHistory(random: Prng): History {
  const operations: VariableOperation[] = [];
  const count = random.between(1, 6);
  const written: string[] = [];
  const nextFree = [0, 0, 0];
  for (let id = 0; id < count; id++) {
    const process = random.int(nextFree.length);
    const callNs = nextFree[process]! + random.int(4);
    const roll = random.float();
    const outcome: Outcome = roll < 0.15 ? 'unknown' : roll < 0.22 ? 'fail' : 'ok';
    const returnNs = outcome === 'unknown' ? Number.POSITIVE_INFINITY : callNs + random.int(6);
    nextFree[process] = outcome === 'unknown' ? Number.POSITIVE_INFINITY : returnNs + 1;
    if (!Number.isFinite(callNs)) continue;
    const common = { id, process, key: 'k', callNs, returnNs, outcome };
    const ok = outcome === 'ok';
    const index = random.between(1, 4);
    const kind = random.pick(['get', 'get', 'put', 'cas', 'cas', 'delete'] as const);
    const value = `v${id}`;
    switch (kind) {
      case 'get': {
        const read = random.chance(0.25) || written.length === 0 ? null : random.pick(written);
        operations.push({
          ...common,
          kind,
          input: null,
          output: ok ? { value: read, index: read === null ? null : index } : null,
        });
        break;
      }
      case 'put':
        written.push(value);
        operations.push({ ...common, kind, input: { value }, output: ok ? { index } : null });
        break;
      case 'cas': {
        written.push(value);
        const succeeded = random.chance(0.5);
        const input = { value, casIndex: random.between(0, 4) };
        operations.push({
          ...common,
          kind,
          input,
          output: ok ? { succeeded, index: succeeded ? index : null } : null,
        });
        break;
      }
      case 'delete': {
        const casIndex = random.chance(0.5) ? random.between(0, 4) : null;
        const succeeded = casIndex === null || random.chance(0.5);
        operations.push({ ...common, kind, input: { casIndex }, output: ok ? { succeeded } : null });
        break;
      }
    }
  }
  return { operations };
}

test('checker agrees with the exhaustive reference on 20,000 tiny histories', () => {
  const random = new Prng(2026);
  const counts = { linearizable: 0, violation: 0 };
  for (let n = 0; n < 20_000; n++) {
    const history = randomHistory(random);
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
  // Both answers must be common, or the comparison proves little.
  assert.ok(counts.linearizable > 2000, JSON.stringify(counts));
  assert.ok(counts.violation > 2000, JSON.stringify(counts));
});
