/**
 * Every seed that ever failed, kept as a regression test: `npm test` runs them all
 * (test/raft/simulation.test.ts) and `npm run sim -- --permanent` replays them. When a run fails,
 * add its seeds with their options and one line on the bug, whether the bug was in the core, its
 * storage or the harness, and keep them after the fix.
 *
 * A seed replays the same run only with the code that found it: a later change of the harness or
 * the core changes what most seeds do. So after a fix, the seeds guard against the bug only
 * loosely, and new runs over fresh seed ranges remain necessary. The seeds below were found by
 * runs of seeds 1 to 10,000 (4000 steps) and 20,000 to 22,999 (12,000 steps) against the core
 * of commits eb75825 and d09bf68.
 */
export interface SeedRecord {
  readonly bug: string;
  readonly component: 'core' | 'storage' | 'harness';
  /** `open` seeds run as todo tests until the bug is fixed. Then mark them `fixed`. */
  readonly status: 'open' | 'fixed';
  readonly servers: number;
  readonly steps: number;
  readonly seeds: readonly number[];
}

const SNAPSHOT_OFFSET_LIVELOCK =
  "InstallSnapshot never completes: a stale chunk of an older snapshot resets the follower's receiver, a " +
  "reordered response moves the leader's offset past what the follower holds, and the leader ignores the " +
  'lower nextOffset that the follower then reports (raft.ts #handleSnapshotResponse, snapshot-receiver.ts).';

const TWO_VOTER_SELF_REMOVAL =
  'A two-voter cluster deadlocks when its leader appends its own removal and loses leadership before it ' +
  'commits: the removed server never campaigns (#promotable reads the uncommitted configuration) and ' +
  'refuses the other voter, whose log is behind (raft.ts #promotable, #handleVoteRequest).';

export const PERMANENT_SEEDS: readonly SeedRecord[] = [
  {
    bug:
      'MemoryStorage rejected the batch of every compaction that kept trailing entries below the new ' +
      'snapshot (rule entries-below-snapshot). Found with an earlier version of this harness.',
    component: 'storage',
    status: 'fixed',
    servers: 3,
    steps: 4000,
    seeds: [1, 2, 3, 4, 5],
  },
  {
    bug:
      'The leader completeness check required a leader elected late in an old term (its votes were ' +
      'delayed) to hold entries that a later term committed. Found with an earlier version of this harness.',
    component: 'harness',
    status: 'fixed',
    servers: 3,
    steps: 4000,
    seeds: [1362, 1615],
  },
  {
    bug:
      'The liveness bound ignored uncommitted entries that a lagging follower still had to receive one ' +
      'round trip at a time. Found with an earlier version of this harness.',
    component: 'harness',
    status: 'fixed',
    servers: 3,
    steps: 4000,
    seeds: [2053, 4148, 4318, 4700, 9454],
  },
  {
    bug: SNAPSHOT_OFFSET_LIVELOCK,
    component: 'core',
    status: 'fixed',
    servers: 3,
    steps: 4000,
    seeds: [317, 1264, 4123, 7813, 8349],
  },
  {
    bug: SNAPSHOT_OFFSET_LIVELOCK,
    component: 'core',
    status: 'fixed',
    servers: 5,
    steps: 4000,
    seeds: [3191, 7558],
  },
  {
    bug: SNAPSHOT_OFFSET_LIVELOCK,
    component: 'core',
    status: 'fixed',
    servers: 3,
    steps: 12000,
    seeds: [20332, 20672, 21114, 22822],
  },
  {
    bug: SNAPSHOT_OFFSET_LIVELOCK,
    component: 'core',
    status: 'fixed',
    servers: 5,
    steps: 12000,
    seeds: [21331, 22128, 22805],
  },
  {
    bug: TWO_VOTER_SELF_REMOVAL,
    component: 'core',
    status: 'fixed',
    servers: 1,
    steps: 4000,
    seeds: [
      26, 121, 177, 199, 230, 246, 286, 347, 362, 503, 536, 566, 744, 816, 1320, 1519, 1552, 1569, 1596, 1606,
      1750, 1753, 1907, 2117, 2192, 2207, 2403, 2415, 2421, 2525, 2529, 2560, 2588, 2593, 2601, 2656, 2686,
      2789, 2796, 2861, 2868, 2878, 2885, 2989, 3028, 3033, 3103, 3124, 3181, 3254, 3287, 3314, 3329, 3344,
      3361, 3389, 3633, 3641, 3719, 3741, 3802, 3833, 3857, 3894, 3897, 3999, 4046, 4220, 4304, 4469, 4475,
      4545, 4552, 4582, 4653, 4743, 4805, 4878, 5033, 5048, 5065, 5082, 5138, 5207, 5271, 5306, 5435, 5508,
      5516, 5519, 5536, 5541, 5754, 5870, 5893, 5967, 6124, 6130, 6151, 6185, 6211, 6236, 6293, 6415, 6450,
      6478, 6573, 6597, 6598, 6651, 6729, 6753, 6785, 6810, 6822, 6882, 6908, 6946, 6987, 7001, 7068, 7182,
      7310, 7376, 7406, 7569, 7736, 7808, 7919, 7990, 8147, 8161, 8257, 8288, 8403, 8439, 8467, 8685, 8770,
      8819, 9002, 9073, 9136, 9157, 9180, 9221, 9378, 9519, 9540, 9637, 9668, 9823, 9860,
    ],
  },
];

/** Flattens the permanent seeds into single runs. */
export function permanentSeedJobs(): { seed: number; servers: number; steps: number; record: SeedRecord }[] {
  return PERMANENT_SEEDS.flatMap((record) =>
    record.seeds.map((seed) => ({ seed, servers: record.servers, steps: record.steps, record })),
  );
}
