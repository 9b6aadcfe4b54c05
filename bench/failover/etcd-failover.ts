import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EtcdCluster } from '../etcd/etcd-cluster.js';
import { LEADER_POLL_MS } from './signet-failover.js';

/** One kill of an etcd leader, in ms from the SIGKILL. */
export interface EtcdTrial {
  readonly trial: number;
  readonly killed: string;
  /** Time until a survivor's /v3/maintenance/status reported a leader other than the killed member. */
  readonly leaderMs: number;
  /** Time from the restart of the killed member until it has applied the leader's raft index. */
  readonly rejoinMs: number;
}

/**
 * Kills the leader of a 3-member etcd cluster (etcd's default timing: 100 ms heartbeat, 1,000 ms
 * election timeout) with SIGKILL `trials` times, and measures the time until a surviving member
 * reports a new leader. After each trial the member starts again on its data folder, and the next
 * trial waits until it has caught up.
 */
export async function measureEtcdFailover(
  trials: number,
  root: string,
  progress: (message: string) => void,
): Promise<EtcdTrial[]> {
  const etcdRoot = join(root, 'etcd');
  await mkdir(etcdRoot, { recursive: true });
  const cluster = await EtcdCluster.start(3, etcdRoot);
  try {
    const results: EtcdTrial[] = [];
    for (let trial = 1; trial <= trials; trial++) {
      const leader = await cluster.leader(30_000);
      const killedAt = performance.now();
      await cluster.kill(leader.name);
      const elected = await cluster.waitForNewLeader(leader, 30_000, LEADER_POLL_MS);
      const leaderMs = performance.now() - killedAt;

      const restartedAt = performance.now();
      await cluster.restart(leader.name);
      await cluster.waitForCaughtUp(leader.name);
      const result = { trial, killed: leader.name, leaderMs, rejoinMs: performance.now() - restartedAt };
      results.push(result);
      progress(
        `etcd trial ${trial}/${trials}: killed ${leader.name}; ${elected.reportedBy} reports a new leader after ${Math.round(leaderMs)} ms; ${leader.name} caught up ${Math.round(result.rejoinMs)} ms after its restart`,
      );
    }
    return results;
  } finally {
    await cluster.stop();
  }
}
