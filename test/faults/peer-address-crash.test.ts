import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { type AgentProcess, FaultCluster, waitForLeader, waitUntil } from './agent-process.js';
import { AuthenticatedPeer } from './authenticated-peer.js';

/**
 * Finding F1 (fixed): a peer that knows the cluster key and introduces itself with an RPC address
 * that passes the servers table's host:port check but that the URL parser rejects ("1.2.3.256:80",
 * an IPv4 octet above 255) was recorded by the leader. Every server's housekeeping then calls
 * RpcTransport.connect() on that address, which throws from a timer callback: an uncaught
 * exception ends every server, and each one crashes again after a restart because the record is
 * in the replicated log. No traffic goes to 1.2.3.256, because the address is rejected before any
 * dial. Now introductions are checked with the transport's own address rule, and an undialable
 * address from the servers table is logged and skipped.
 */
const PEER_ID = 777;
const BAD_RPC_ADDR = '1.2.3.256:80';

describe('peer with an undialable RPC address', { timeout: 180_000 }, () => {
  let cluster: FaultCluster | null = null;
  after(async () => {
    await cluster?.remove();
  });

  test('does not crash the server', async () => {
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
      // The server must refuse the introduction (it names an address that cannot be dialled)
      // instead of recording it, and say why in its log.
      const outcome = await Promise.race([
        server.exited().then((exit) => ({ kind: 'exited' as const, exit })),
        waitUntil(
          'the server to refuse the introduction',
          async () => {
            const lines = await server.logLines();
            const refused = lines.some(
              (line) =>
                line.msg === 'ignored an invalid introduction' &&
                line.peer === PEER_ID &&
                String(line.reason).includes(BAD_RPC_ADDR),
            );
            return refused ? { kind: 'refused' as const } : undefined;
          },
          30_000,
        ),
      ]);
      assert.notEqual(outcome.kind, 'exited', 'the server exited instead of refusing the peer');
      const recorded = (await server.logLines()).some(
        (line) => line.action === 'record-server' && line.server === PEER_ID,
      );
      assert.equal(recorded, false, 'the leader recorded a server whose address cannot be dialled');
      // Eight housekeeping rounds: every one of them dials each recorded server.
      const laterExit = await server.exitWithin(2000);
      assert.equal(laterExit, null, 'the server exited after it recorded the peer');
      assert.equal(server.running, true);
    } finally {
      peer.close();
    }
  });
});
