import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpRequest } from '../../http-client.js';
import { REMOVED_MARKER } from '../../kept-servers.js';
import type { Cluster, ServerHandle } from '../../launcher.js';
import { done, pending, WaitTimeoutError, waitFor } from '../../wait.js';
import { HarnessError } from '../harness-error.js';
import { SyncRecording } from '../unsynced/sync-recording.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** How long inject() waits for a leader to send the removal to, in ms. */
const LEADER_WAIT_MS = 10_000;
/** Reply deadline of the DELETE, in ms. The server itself stops waiting for the commit after 5 s. */
const REMOVE_REQUEST_MS = 10_000;
/** How long the configuration may still list the removed id after the DELETE, in ms. */
const REMOVAL_WAIT_MS = 20_000;
/** How long the rejoined server may take to catch up and become a voter, in ms. */
const VOTER_WAIT_MS = 60_000;
/** Share of membership faults that remove the leader itself rather than a follower. */
const LEADER_SHARE = 0.3;

/**
 * Builds the membership fault. inject() removes one running member from the Raft configuration
 * with DELETE /v1/operator/raft/peer on the leader, waits until the configuration no longer lists
 * it, and stops its process. With probability `leaderShare` that member is the leader itself, which
 * keeps leading until the removal commits and then hands over. heal() starts the same server (name,
 * address, ports, namespace) with an empty data folder. It joins through retry_join as a new member
 * with a new Raft id, because the cluster never admits a removed id again, and heal() returns
 * once it is a voter.
 */
export function createMembershipFault(leaderShare: number): Fault {
  if (!(leaderShare >= 0 && leaderShare <= 1)) {
    throw new RangeError(`invalid leader share ${leaderShare}: expected a probability from 0 to 1`);
  }
  return {
    kind: 'membership',
    async inject({ cluster, random }: FaultContext): Promise<ActiveFault> {
      const leader = await cluster.waitForLeader(LEADER_WAIT_MS);
      const followers = cluster.live().filter((server) => server !== leader);
      if (followers.length === 0) {
        throw new Error(`cannot remove a server: ${leader.name} is the only running server`);
      }
      const removed = random.chance(leaderShare) ? leader : random.pick(followers);
      const id = await cluster.raftId(removed, leader);

      await removeFromConfiguration(cluster, leader, removed, id);
      // A kept cluster folder must not start the removed server again on its old data.
      await writeFile(join(removed.dir, REMOVED_MARKER), `removed from the cluster as Raft id ${id}\n`);
      try {
        await removed.stop();
      } catch (err) {
        // A removed server that still runs would serve the checks from outside the cluster.
        throw new HarnessError(`cannot stop ${removed.name} after its removal: ${(err as Error).message}`, {
          cause: err,
        });
      }

      const role = removed === leader ? 'the leader' : 'a follower';
      return {
        description: `membership: removed ${removed.name} (${role}, Raft id ${id}) and stopped it`,
        heal: () => rejoin(cluster, removed, id),
      };
    },
  };
}

/** The membership fault of the suite. */
export const membershipFault: Fault = createMembershipFault(LEADER_SHARE);

/**
 * Sends DELETE /v1/operator/raft/peer?id= to `leader` and waits until the configuration, read
 * consistently through the other running servers, no longer lists `id`. A 4xx reply means the
 * leader rejected the change (a peer not caught up, another change pending), so nothing changed
 * and this raises at once. After a 5xx or no reply the removal may still commit, so it waits for
 * the configuration either way.
 */
async function removeFromConfiguration(
  cluster: Cluster,
  leader: ServerHandle,
  server: ServerHandle,
  id: string,
): Promise<void> {
  const path = `/v1/operator/raft/peer?id=${encodeURIComponent(id)}`;
  let reply: string;
  try {
    const response = await httpRequest(leader.httpAddr, 'DELETE', path, {
      headers: cluster.authHeaders(),
      timeoutMs: REMOVE_REQUEST_MS,
    });
    reply = `status ${response.status}: ${response.body.slice(0, 200)}`;
    if (response.status >= 400 && response.status < 500) {
      throw new Error(
        `cannot remove ${server.name} (Raft id ${id}): ${leader.name} rejected DELETE ${path} with ${reply}`,
      );
    }
  } catch (err) {
    if (!isNetworkError(err)) throw err;
    reply = `no reply (${err.code})`;
  }

  const others = () => cluster.live().filter((other) => other !== server);
  let poll = 0;
  try {
    await waitFor(
      `${server.name} (Raft id ${id}) to leave the Raft configuration`,
      { timeoutMs: REMOVAL_WAIT_MS, intervalMs: 100 },
      async () => {
        // Each poll reads through the next server, so one that stalls does not hold up the wait.
        const candidates = others();
        const via = candidates[poll++ % Math.max(1, candidates.length)];
        if (via === undefined) return pending('no other running server');
        const { Servers } = await cluster.raftConfiguration(via);
        return Servers.some((entry) => entry.ID === id)
          ? pending(`${via.name} lists ${JSON.stringify(Servers)}`)
          : done(undefined);
      },
    );
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    // An appended removal commits once a leader commits any entry after it, or a leader without it
    // discards it, so it can still take effect after this raise. A run that went on would check a
    // server that may run outside the cluster, so the run ends here.
    throw new HarnessError(
      `cannot confirm the removal of ${server.name} (Raft id ${id}) after DELETE ${path} on ${leader.name} (${reply}): ${err.message}`,
    );
  }
}

/**
 * Starts `server` again with an empty data folder and waits until the leader lists it as a voter
 * under a Raft id other than `oldId`.
 */
async function rejoin(cluster: Cluster, server: ServerHandle, oldId: string): Promise<void> {
  // In a run under the sync shim, the emptied folder's old syncs must not count for its new files.
  await cluster.rejoinServer(server, {
    beforeEmpty: async () => {
      await SyncRecording.find(cluster)?.forget(server);
    },
  });
  await cluster.waitForVoter(server, VOTER_WAIT_MS);
  const newId = await cluster.raftId(server, await cluster.waitForLeader(LEADER_WAIT_MS));
  if (newId === oldId) {
    throw new Error(
      `${server.name} rejoined under its removed Raft id ${oldId}; its data folder was not emptied`,
    );
  }
}

/** True for the errors httpRequest raises when no reply came (refused, reset, timed out). */
function isNetworkError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string';
}
