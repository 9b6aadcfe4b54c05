import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type AgentProcess, FaultCluster, waitForLeader, waitUntil } from './agent-process.js';
import { AuthenticatedPeer } from './authenticated-peer.js';

/**
 * Finding F1: a peer that knows the cluster key and introduces itself with an RPC address that
 * passes the servers table's host:port check but that the URL parser rejects ("1.2.3.256:80", an
 * IPv4 octet above 255) gets recorded by the leader. Every server's housekeeping then calls
 * RpcTransport.connect() on that address, which throws from a timer callback: an uncaught
 * exception ends every server, and each one crashes again after a restart because the record is
 * in the replicated log. No traffic goes to 1.2.3.256, because the address is rejected before any
 * dial.
 */
const PEER_ID = 777;
const BAD_RPC_ADDR = '1.2.3.256:80';
const TODO = 'finding F1: an invalid peer RPC address in the servers table crashes every server';

describe('peer with an undialable RPC address', { timeout: 180_000 }, () => {
  let cluster: FaultCluster | null = null;
  after(async () => {
    await cluster?.remove();
  });

  test('does not crash the server', { todo: TODO }, async () => {
    cluster = await FaultCluster.create();
    const [server] = (await cluster.define(1)) as [AgentProcess];
    await server.start();
    await waitForLeader([server]);

    const peer = await AuthenticatedPeer.connect(server.rpcAddr, cluster.key, PEER_ID, {
      id: PEER_ID,
      name: 'buggy-peer',
      rpcAddr: BAD_RPC_ADDR,
      httpAddr: '127.0.0.1:9',
      // A pristine server: the leader records it and adds it as a learner.
      pristine: true,
      bootstrapExpect: 1,
      peers: [],
    });
    try {
      // The leader records a live server within a few housekeeping rounds (250 ms each); the
      // crash, when it happens, follows within one more round.
      const outcome = await Promise.race([
        server.exited().then((exit) => ({ kind: 'exited' as const, exit })),
        waitUntil(
          'the leader to record the peer',
          async () => {
            const lines = await server.logLines();
            const recording = lines.some(
              (line) => line.action === 'record-server' && line.server === PEER_ID,
            );
            return recording ? { kind: 'recorded' as const } : undefined;
          },
          30_000,
        ),
      ]);
      assert.notEqual(outcome.kind, 'exited', 'the server exited before it recorded the peer');
      // Eight housekeeping rounds: every one of them dials each recorded server.
      const laterExit = await server.exitWithin(2000);
      assert.equal(laterExit, null, 'the server exited after it recorded the peer');
      assert.equal(server.running, true);
    } finally {
      peer.close();
    }
  });
});
