import { httpRequest } from '../../http-client.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** How long the transfer waits for a leader to ask, in ms. */
const LEADER_WAIT_MS = 10_000;

/**
 * Asks the leader to hand leadership to another voter (PUT /v1/operator/raft/transfer-leadership,
 * the leader picks the most up-to-date one). Nothing to undo: the cluster keeps its new leader.
 * A rejected transfer is reported in the description, not raised, because a transfer may be
 * rejected while a peer lags, and that is no fault of the cluster.
 */
export const transferFault: Fault = {
  kind: 'transfer',
  async inject({ cluster }: FaultContext): Promise<ActiveFault> {
    const leader = await cluster.waitForLeader(LEADER_WAIT_MS);
    let result: string;
    try {
      const response = await httpRequest(leader.httpAddr, 'PUT', '/v1/operator/raft/transfer-leadership', {
        headers: cluster.authHeaders(),
        timeoutMs: 10_000,
      });
      result =
        response.status === 200
          ? 'accepted'
          : `rejected with status ${response.status}: ${response.body.slice(0, 120)}`;
    } catch (err) {
      result = `failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
    return { description: `transfer leadership away from ${leader.name}: ${result}`, heal: async () => {} };
  },
};
