import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type AgentProcess, FaultCluster, http, waitForLeader, waitUntil } from './agent-process.js';

/**
 * Finding F2 (fixed): a follower retried a forwarded write when its connection to the leader closes
 * (TransportError CLOSED), although the leader may already have appended and committed the
 * command. When the leader is SIGKILLed during a burst of namespace deletes sent through a
 * follower, the retry runs the delete a second time and the client gets 404 "namespace not found"
 * for a namespace that existed and that its own request deleted. In one run on a 2-core machine,
 * with 16 concurrent clients, 13 of 2018 deletes answered 404.
 */
const NAMESPACES = 800;
const WRITERS = 16;

describe('deletes through a follower while the leader dies', { timeout: 240_000 }, () => {
  let cluster: FaultCluster | null = null;
  after(async () => {
    await cluster?.remove();
  });

  test('never answer 404 for existing namespaces', async () => {
    cluster = await FaultCluster.create();
    const servers = await cluster.define(3);
    for (const server of servers) await server.start();
    const leaderAddr = await waitForLeader(servers);
    const leader = servers.find((server) => server.rpcAddr === leaderAddr) as AgentProcess;
    const follower = servers.find((server) => server !== leader) as AgentProcess;

    const names = Array.from({ length: NAMESPACES }, (_, i) => `f2-${i}`);
    for (let i = 0; i < names.length; i += WRITERS) {
      const batch = names.slice(i, i + WRITERS);
      const created = await Promise.all(
        batch.map((name) => http(leader.httpAddr, 'POST', `/v1/namespace/${name}`, '{}')),
      );
      for (const result of created) assert.equal(result.status, 200, result.body);
    }

    const statuses = new Map<string, number>();
    let next = 0;
    const deleteAll = async (): Promise<void> => {
      while (next < names.length) {
        const name = names[next++] as string;
        const result = await http(follower.httpAddr, 'DELETE', `/v1/namespace/${name}`, undefined, 30_000);
        statuses.set(name, result.status);
      }
    };
    const writers = Array.from({ length: WRITERS }, deleteAll);
    // Kill the leader once a quarter of the deletes are acknowledged, so that many are in flight.
    await waitUntil(
      'a quarter of the deletes',
      async () => (statuses.size >= NAMESPACES / 4 ? true : undefined),
      60_000,
      10,
    );
    await leader.kill();
    await Promise.all(writers);

    const notFound = [...statuses].filter(([, status]) => status === 404).map(([name]) => name);
    assert.deepEqual(notFound, [], `${notFound.length} deletes of existing namespaces answered 404`);
  });
});
