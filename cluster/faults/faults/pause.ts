import type { ActiveFault, Fault, FaultContext } from './fault.js';

/**
 * SIGSTOP a random running server and SIGCONT it when healed. The process keeps its sockets but
 * runs no code, as in a long GC pause or a stalled disk, so peers and clients see timeouts rather
 * than refused connections. Its clock keeps going, so on resume its timers fire long overdue.
 */
export const pauseFault: Fault = {
  kind: 'pause',
  async inject({ cluster, random }: FaultContext): Promise<ActiveFault> {
    const live = cluster.live();
    if (live.length === 0)
      return { description: 'pause: no running server, nothing done', heal: async () => {} };
    const server = random.pick(live);
    server.pause();
    return {
      description: `pause ${server.name} (SIGSTOP)`,
      heal: async () => {
        if (server.state === 'paused') server.resume();
      },
    };
  },
};
