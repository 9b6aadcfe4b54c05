import type { ServerHandle } from '../../launcher.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/**
 * SIGKILL a random running server, and start it again on the same data folder and ports when
 * healed. The process gets no chance to flush anything, so what it acknowledged must already be
 * on disk.
 */
export const killFault: Fault = {
  kind: 'kill',
  async inject({ cluster, random }: FaultContext): Promise<ActiveFault> {
    const live = cluster.live();
    if (live.length === 0)
      return { description: 'kill: no running server, nothing done', heal: async () => {} };
    return killServer(random.pick(live), 'kill');
  },
};

/** Kills `server` with SIGKILL and returns the fault whose heal() restarts it. */
export async function killServer(server: ServerHandle, kind: string): Promise<ActiveFault> {
  await server.kill('SIGKILL');
  return {
    description: `${kind} ${server.name} (SIGKILL)`,
    heal: () => server.restart(),
  };
}
