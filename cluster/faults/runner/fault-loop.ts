import { setTimeout as delay } from 'node:timers/promises';
import { Prng } from '../../../test/sim/prng.js';
import type { Cluster } from '../../launcher.js';
import type { ActiveFault } from '../faults/fault.js';
import { FAULTS } from '../faults/registry.js';
import { HarnessError } from '../harness-error.js';
import type { FaultNetwork } from '../net/fault-network.js';
import type { ScheduledFault } from './schedule.js';

/** A fault as it was injected, for the schedule printed on a violation. */
export interface InjectedFault {
  readonly planned: ScheduledFault;
  /** When it was injected and healed, in ms from the start of the faults. */
  readonly startedMs: number;
  readonly healedMs: number;
  readonly description: string;
}

/**
 * Injects the planned faults in order, one at a time: wait for its start time, inject it, hold it,
 * heal it. A fault whose injection raises (no leader to kill within its wait) is logged and
 * skipped, because the cluster may legitimately be without a leader for a moment. A HarnessError
 * from an injection, or any error from a heal (a server that does not come back), ends the run.
 * When a fault or its heal takes longer than planned, the later faults start late rather than
 * overlap, and the faults that could no longer end within `durationMs` are left out.
 */
export async function runFaultSchedule(
  cluster: Cluster,
  plan: readonly ScheduledFault[],
  options: { readonly seed: number; readonly durationMs: number; readonly network?: FaultNetwork | null },
  log: (line: string) => void,
): Promise<InjectedFault[]> {
  const random = new Prng(options.seed, 0xfa17);
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const injected: InjectedFault[] = [];

  for (const [position, planned] of plan.entries()) {
    if (Math.max(planned.atMs, elapsed()) + planned.holdMs > options.durationMs) {
      const left = plan.length - position;
      log(`schedule ran late: ${left} planned fault${left === 1 ? '' : 's'} left out`);
      break;
    }
    const waitMs = planned.atMs - elapsed();
    if (waitMs > 0) await delay(waitMs);
    const startedMs = elapsed();
    let active: ActiveFault;
    try {
      active = await FAULTS[planned.kind].inject({
        cluster,
        random: random.fork(),
        network: options.network ?? null,
      });
    } catch (err) {
      if (err instanceof HarnessError) throw err;
      log(`fault ${planned.kind} skipped at ${seconds(startedMs)}: ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const hold = planned.holdMs > 0 ? `, held ${planned.holdMs} ms` : '';
    log(`fault ${injected.length + 1} at ${seconds(startedMs)}: ${active.description}${hold}`);
    if (planned.holdMs > 0) await delay(planned.holdMs);
    await active.heal();
    const healedMs = elapsed();
    if (planned.holdMs > 0) log(`healed at ${seconds(healedMs)}: ${active.description}`);
    injected.push({ planned, startedMs, healedMs, description: active.description });
  }
  return injected;
}

/**
 * Undoes whatever may still be in effect on every member: resumes a paused server and starts a
 * stopped one. Each fault heals itself in the schedule, so this is a second pass in case a heal
 * left a server down or paused.
 */
export async function healEverything(cluster: Cluster): Promise<void> {
  await Promise.all(
    cluster.servers().map(async (server) => {
      if (server.state === 'paused') server.resume();
      else if (server.state === 'stopped') await server.restart();
    }),
  );
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
