import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checked } from './fixtures/checked-cluster.js';
import {
  type Action,
  actionArbitrary,
  emptyStats,
  FuzzCluster,
  type Setup,
  setupArbitrary,
} from './fixtures/fuzz-scenario.js';

/**
 * A faulty or lying peer must never make `step` throw: a thrown Error would crash the server.
 * Raft does not tolerate Byzantine peers, so the cluster may disagree afterwards. The property is
 * only that every call returns, that every batch passes the storage checks, that every message a
 * server sends passes validateMessage, and that the ready/advance loop keeps working. Replay a
 * failure with ROBUSTNESS_SEED and the `path` that fast-check prints. ROBUSTNESS_RUNS changes the
 * number of runs.
 */
const SEED = Number(process.env.ROBUSTNESS_SEED ?? 20_261_204);
const RUNS = Number(process.env.ROBUSTNESS_RUNS ?? 5000);

describe('step with faulty peer input', () => {
  test('never throws and the loop keeps working', (t) => {
    t.diagnostic(`seed ${SEED}, ${RUNS} runs (set ROBUSTNESS_SEED and ROBUSTNESS_RUNS to change)`);
    const stats = emptyStats();
    const started = performance.now();

    fc.assert(
      fc.property(
        setupArbitrary,
        fc.array(actionArbitrary, { minLength: 5, maxLength: 60, size: 'max' }),
        fc.nat(),
        (setup: Setup, actions: readonly Action[], seed: number) => {
          const fuzz = new FuzzCluster(setup, seed);
          for (const action of actions) fuzz.run(action, stats);
          fuzz.settle();

          for (const id of fuzz.ids()) {
            const server = checked(fuzz.cluster, id);
            assert.equal(server.node.hasReady(), false, `server ${id} still has work after settling`);
            const { term, commit, applied, lastIndex } = server.node.status();
            for (const [name, value] of Object.entries({ term, commit, applied, lastIndex })) {
              assert.ok(Number.isSafeInteger(value), `server ${id}: ${name} is ${value}`);
              assert.ok(value >= 0, `server ${id}: ${name} is ${value}`);
            }
            assert.ok(
              applied <= commit && commit <= lastIndex,
              `server ${id}: ${applied} <= ${commit} <= ${lastIndex}`,
            );
            // What the core made durable must be a state that it accepts after a restart.
            server.restart();
          }
        },
      ),
      { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
    );

    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const byType = [...stats.acceptedByType].map(([type, count]) => `${type} ${count}`).join(', ');
    t.diagnostic(
      `${stats.stepped} messages stepped in ${seconds} s, ${stats.accepted} passed validateMessage`,
    );
    t.diagnostic(`passed validation by type: ${byType}`);
    // Every message type must reach the core, or the property tests less than it claims.
    assert.equal(stats.acceptedByType.size, 11, `types that passed validation: ${byType}`);
  });
});
