import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_STEPS } from '../sim/plan.js';
import { replayCommand } from '../sim/runner.js';
import { permanentSeedJobs } from '../sim/seeds.js';
import { runSeed, type SeedResult, type SimStats } from '../sim/simulation.js';

/** Seeds per cluster size: about 15 s for all three sizes on the 2-core development VM. */
const SEEDS_PER_SIZE = 200;
const SIZES = [1, 3, 5] as const;

const permanent = permanentSeedJobs();

/** Seeds of open bugs run only among the permanent seeds, as todo tests. */
function isKnownOpen(seed: number, servers: number, steps: number): boolean {
  return permanent.some(
    (job) =>
      job.record.status === 'open' && job.seed === seed && job.servers === servers && job.steps === steps,
  );
}

function describeFailure(result: SeedResult): string {
  const violation = result.violation!;
  return `seed ${result.seed} (${result.servers} servers): ${violation.invariant} at step ${violation.step}: ${violation.message}; replay: ${replayCommand(result)} --verbose`;
}

function addStats(total: SimStats, stats: SimStats): void {
  for (const key of Object.keys(stats) as (keyof SimStats)[]) total[key] += stats[key];
}

describe('raft simulation', () => {
  const totals = new Map<number, SimStats>();

  for (const servers of SIZES) {
    test(`${SEEDS_PER_SIZE} seeds with ${servers} founding server${servers === 1 ? '' : 's'}`, () => {
      const failures: string[] = [];
      let total: SimStats | null = null;
      for (let seed = 1; seed <= SEEDS_PER_SIZE; seed++) {
        if (isKnownOpen(seed, servers, DEFAULT_STEPS)) continue;
        const result = runSeed({ seed, servers, steps: DEFAULT_STEPS });
        if (result.violation !== null) failures.push(describeFailure(result));
        if (total === null) total = { ...result.stats };
        else addStats(total, result.stats);
      }
      totals.set(servers, total!);

      assert.deepEqual(failures, []);
      assert.ok(total!.elections > 0, 'no leader was ever elected');
      assert.ok(total!.acknowledged > 0, 'no write was ever acknowledged');
      assert.ok(total!.dropped > 0, 'no message was dropped');
      assert.ok(total!.crashes > 0, 'no server crashed');
    });
  }

  // A harness that quietly stops injecting a fault must fail here, not pass with weaker runs.
  test('every fault and workload counter is non-zero', (context) => {
    if (totals.size !== SIZES.length) {
      context.skip('the seed ranges did not all run');
      return;
    }
    const sum = { ...totals.get(1)! };
    addStats(sum, totals.get(3)!);
    addStats(sum, totals.get(5)!);
    for (const key of [
      'dropped',
      'duplicated',
      'delayed',
      'partitions',
      'crashes',
      'restarts',
      'readsServed',
      'membershipChanges',
      'transfers',
      'snapshotsInstalled',
    ] as const) {
      assert.ok(sum[key] > 0, `counter ${key} is 0 over all seeds`);
    }
    for (const servers of [3, 5]) {
      assert.ok(totals.get(servers)!.partitions > 0, `no partition with ${servers} servers`);
    }
  });

  describe('permanent seeds', () => {
    for (const job of permanent) {
      const name = `seed ${job.seed}, ${job.servers} servers, ${job.steps} steps (${job.record.component})`;
      const todo = job.record.status === 'open' ? `open bug: ${job.record.bug}` : undefined;
      test(name, { todo }, () => {
        const result = runSeed({ seed: job.seed, servers: job.servers, steps: job.steps });
        assert.equal(result.violation, null, result.violation === null ? '' : describeFailure(result));
      });
    }
  });
});
