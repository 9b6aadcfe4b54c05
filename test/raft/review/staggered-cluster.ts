import { bootstrapState } from '../../../src/raft/bootstrap.js';
import type { RaftOptions } from '../../../src/raft/raft.js';
import type { NodeId } from '../../../src/raft/types.js';
import { MemoryCluster, MemoryServer } from '../support/memory-cluster.js';

/**
 * A MemoryCluster whose servers time out at different ticks: server k adds k - 1 ticks to its
 * election timeout, so that two followers never split the vote forever.
 */
export function staggeredCluster(
  ids: NodeId[],
  options: Partial<Omit<RaftOptions, 'id' | 'random'>> = {},
): MemoryCluster {
  const cluster = new MemoryCluster(ids, options);
  const state = bootstrapState(ids);
  for (const id of ids) {
    const random = (bound: number): number => Math.min(id - 1, bound - 1);
    cluster.servers.set(id, new MemoryServer(id, { ...options, random }, state));
  }
  return cluster;
}
