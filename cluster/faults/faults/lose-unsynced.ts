import type { ServerHandle } from '../../launcher.js';
import { HarnessError } from '../harness-error.js';
import type { RollbackSummary } from '../unsynced/rollback.js';
import { SyncRecording } from '../unsynced/sync-recording.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** Share of injections that hit every running server at once, as a power loss of the whole site. */
const POWER_LOSS_CHANCE = 0.25;

/**
 * SIGKILL a random running server, or now and then every running server, and roll its data folder
 * back to what it had fsynced, as after a power loss. heal() starts it again on that folder. A
 * server that acknowledged a write before its fsync returned loses the write here, whereas after
 * a plain `kill` the page cache still has it.
 */
export const loseUnsyncedFault: Fault = {
  kind: 'lose-unsynced',
  async inject({ cluster, random }: FaultContext): Promise<ActiveFault> {
    const recording = SyncRecording.find(cluster);
    if (recording === undefined)
      throw new HarnessError(
        `cannot inject lose-unsynced: the servers of ${cluster.root} do not run under the sync shim`,
      );
    const live = cluster.live();
    if (live.length === 0)
      return { description: 'lose-unsynced: no running server, nothing done', heal: async () => {} };
    const powerLoss = live.length > 1 && random.chance(POWER_LOSS_CHANCE);
    return loseUnsynced(recording, powerLoss ? live : [random.pick(live)], powerLoss);
  },
};

/**
 * Kills `servers` with SIGKILL, rolls each one's data folder back to what it synced and returns
 * the fault whose heal() restarts them. When a rollback raises, the servers are started again on
 * what their folders hold and a HarnessError ends the run: a run that went on would pass without
 * ever losing an unsynced write.
 */
export async function loseUnsynced(
  recording: SyncRecording,
  servers: readonly ServerHandle[],
  powerLoss: boolean,
): Promise<ActiveFault> {
  await Promise.all(servers.map((server) => server.kill('SIGKILL')));
  const restart = async () => {
    await Promise.all(servers.map((server) => server.restart()));
  };
  const summaries: RollbackSummary[] = [];
  try {
    for (const server of servers) summaries.push(await recording.rollBack(server));
  } catch (err) {
    await restart();
    throw new HarnessError(
      `cannot roll back the unsynced writes of ${servers.map((server) => server.name).join(', ')}: ${(err as Error).message}`,
      { cause: err },
    );
  }

  const names = servers.map((server) => server.name).join(', ');
  const target = powerLoss ? `power loss on ${names}` : names;
  return { description: `lose-unsynced ${target} (SIGKILL; ${describeDropped(summaries)})`, heal: restart };
}

function describeDropped(summaries: readonly RollbackSummary[]): string {
  const total = (field: keyof RollbackSummary) => summaries.reduce((sum, summary) => sum + summary[field], 0);
  const truncated = total('truncatedFiles');
  const deleted = total('deletedFiles');
  return `dropped ${count(total('droppedBytes'), 'unsynced byte')}: ${count(truncated, 'file')} truncated, ${deleted} deleted`;
}

function count(amount: number, noun: string): string {
  return `${amount} ${noun}${amount === 1 ? '' : 's'}`;
}
