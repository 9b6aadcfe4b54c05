import type { Benchmark } from './harness/benchmark.js';
import { makeRow } from './harness/row.js';
import { measurePlacement, type PlacementSizes } from './placement.js';

const FULL_SIZES: PlacementSizes = { nodes: 100, allocs: 5_000 };
const QUICK_SIZES: PlacementSizes = { nodes: 5, allocs: 50 };

/**
 * Allocations placed and committed per second by a 3-server cluster of separate processes (fsync
 * on) with simulated client nodes, which run in the benchmark's own process, one websocket each.
 * The clock stops at the leader's own timestamp of the moment it had applied the job's last plan
 * entry. bench/placement.ts explains how it is read without loading the leader.
 */
export const placementBenchmark: Benchmark = {
  name: 'placement',
  description: 'allocations placed and committed/s, 3 server processes, 100 simulated nodes',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    context.progress(`starting 3 servers and ${sizes.nodes} simulated nodes`);
    const times = await measurePlacement(sizes, (message) => context.progress(message));
    const rate = Math.round(sizes.allocs / (times.placedMs / 1000));
    context.progress(`${sizes.allocs} allocations committed in ${times.placedMs.toFixed(0)} ms`);
    const perAlloc = (cpuMs: number | null) =>
      cpuMs === null ? null : Math.round((cpuMs * 1000) / sizes.allocs);
    const leaderUs = perAlloc(times.leaderCpuMs);
    const followersUs = perAlloc(times.followersCpuMs);
    return [
      makeRow({
        figure: `allocations placed and committed/s, 3 servers, ${sizes.nodes} simulated nodes (one job of ${sizes.allocs.toLocaleString('en-US')})`,
        unit: 'allocs/s',
        signet: rate,
        target: { kind: 'at-least', value: 5_000 },
        note: `commit time stamped by the leader; every allocation reported running after ${(times.runningMs / 1000).toFixed(1)} s`,
        raw: { ...times },
      }),
      makeRow({
        figure:
          'leader CPU time per allocation placed (user + system, from the registration until the outcome is read)',
        unit: 'µs',
        signet: leaderUs,
        note:
          leaderUs === null
            ? 'no /proc on this system'
            : `the two followers together: ${followersUs ?? '—'} µs per allocation`,
        raw: { leaderCpuMs: times.leaderCpuMs, followersCpuMs: times.followersCpuMs, allocs: sizes.allocs },
      }),
    ];
  },
};
