import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { splitAddress } from '../../cluster/http-client.js';
import type { ServerHandle } from '../../cluster/launcher.js';
import { encodeFrame } from '../../src/rpc/frames.js';
import {
  CLUSTER_TEST_TIMEOUT_MS,
  raftTerm,
  startTestCluster,
  type TestCluster,
  withServerLogs,
} from './fixture.js';

/** Deadline for a server to close a connection that sent it garbage, in ms; the handshake timeout is 5 s. */
const CLOSE_DEADLINE_MS = 15_000;
const SERVER_PATH = '/v1/rpc/server';
/** One byte above the transport's default frame limit (8 MiB). */
const OVERSIZED_BYTES = 8 * 1024 * 1024 + 1;

/** What a websocket attempt ended with: the HTTP status of a rejected upgrade, or the close code. */
type Outcome =
  | { readonly kind: 'rejected'; readonly status: number }
  | { readonly kind: 'closed'; readonly code: number }
  | { readonly kind: 'error'; readonly message: string };

/**
 * Opens a websocket to `path` on the RPC address, sends `messages` once open, and waits until the
 * server ends the connection. Raises when it is still open after CLOSE_DEADLINE_MS.
 */
function sendOverWebsocket(
  rpcAddr: string,
  path: string,
  messages: readonly (Buffer | string)[],
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${rpcAddr}${path}`, {
      perMessageDeflate: false,
      maxPayload: 64 * 1024 * 1024,
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${rpcAddr}${path} kept the connection open for ${CLOSE_DEADLINE_MS} ms`));
    }, CLOSE_DEADLINE_MS);
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    };
    ws.on('unexpected-response', (_request, response) => {
      finish({ kind: 'rejected', status: response.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('open', () => {
      for (const message of messages) ws.send(message, { binary: typeof message !== 'string' });
    });
    ws.on('close', (code) => finish({ kind: 'closed', code }));
    ws.on('error', (error) => {
      // An error (for example a reset while sending 8 MiB) is followed by a close event with 1006.
      if (ws.readyState === WebSocket.CONNECTING) finish({ kind: 'error', message: error.message });
    });
  });
}

/** Writes `bytes` on a plain TCP connection and resolves once the server has closed it. */
function sendOverTcp(rpcAddr: string, bytes: Buffer): Promise<string> {
  const [host, port] = splitAddress(rpcAddr);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${rpcAddr} kept a TCP connection with garbage open for ${CLOSE_DEADLINE_MS} ms`));
    }, CLOSE_DEADLINE_MS);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => {
      // A reset is one way of closing; the close event follows.
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
  });
}

/** Builds a correct websocket upgrade followed by bytes that are not a websocket frame at all. */
function upgradeThenGarbage(rpcAddr: string): Buffer {
  const request =
    `GET ${SERVER_PATH} HTTP/1.1\r\nHost: ${rpcAddr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  // Opcode 0xF is reserved, and client frames must be masked: two protocol errors in one.
  return Buffer.concat([Buffer.from(request, 'latin1'), Buffer.from([0x8f, 0x05, 1, 2, 3, 4, 5])]);
}

/** Builds a hello with the right shape but a proof made without the cluster key. */
function forgedHello(): Buffer {
  return encodeFrame({
    kind: 'handshake',
    step: { type: 'hello', v: 2, nodeId: 12345, nonce: randomBytes(32), proof: randomBytes(32) },
  });
}

/** Builds msgpack arrays nested `depth` deep, to test the decoder's recursion. */
function deeplyNested(depth: number): Buffer {
  return Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
}

describe('garbage on the RPC port', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  async function checkClusterHealthy(leader: ServerHandle, term: number): Promise<void> {
    const { cluster, crashes } = setup!;
    assert.deepEqual(crashes, []);
    for (const server of cluster.servers()) assert.equal(server.state, 'running', `${server.name} state`);
    assert.equal(await cluster.waitForLeader(30_000), leader, 'the leader changed');
    assert.equal(await raftTerm(leader), term, 'the term changed');
    for (const server of cluster.servers()) {
      const name = `after-garbage-${server.name}`;
      const written = await server.request('PUT', `/v1/namespace/${name}`, {
        body: { Name: name, Description: '' },
      });
      assert.equal(written.status, 200, `write through ${server.name}: ${written.body}`);
    }
  }

  test(
    'malformed websocket frames close only their connection',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(60_000);
      const term = await raftTerm(leader);

      const cases: { name: string; messages: (Buffer | string)[]; codes: number[] }[] = [
        { name: 'unused msgpack byte', messages: [Buffer.alloc(64, 0xc1)], codes: [1002] },
        { name: 'random bytes', messages: [randomBytes(4096)], codes: [1002, 1008] },
        { name: 'text message', messages: ['{"kind":"handshake"}'], codes: [1003] },
        { name: 'empty binary message', messages: [Buffer.alloc(0)], codes: [1002] },
        { name: 'array, not a map', messages: [Buffer.from([0x93, 1, 2, 3])], codes: [1002] },
        { name: 'map without kind', messages: [Buffer.from([0x81, 0xa1, 0x61, 0x01])], codes: [1002] },
        {
          name: 'unknown envelope kind',
          messages: [encodeFrame({ kind: 'raft', message: { type: 'vote' } })],
          codes: [1002],
        },
        {
          name: 'Raft message before the handshake',
          messages: [
            encodeFrame({
              kind: 'one-way',
              frame: { kind: 'raft', message: { type: 'timeout-now', from: 1, to: 2, term: 1_000_000 } },
            }),
          ],
          codes: [1002],
        },
        {
          name: 'request before the handshake',
          messages: [encodeFrame({ kind: 'request', id: 1, frame: { kind: 'apply', command: {} } })],
          codes: [1002],
        },
        { name: 'hello with a forged proof', messages: [forgedHello()], codes: [1008] },
        {
          name: 'hello with a 64-bit node id',
          messages: [
            encodeFrame({
              kind: 'handshake',
              step: {
                type: 'hello',
                v: 2,
                nodeId: 2n ** 62n,
                nonce: randomBytes(32),
                proof: randomBytes(32),
              },
            }),
          ],
          codes: [1008],
        },
        { name: 'deeply nested arrays', messages: [deeplyNested(200_000)], codes: [1002, 1008] },
        {
          name: 'frame above the size limit',
          messages: [Buffer.alloc(OVERSIZED_BYTES, 0x00)],
          codes: [1008, 1009],
        },
        { name: 'nothing after the challenge', messages: [], codes: [1008] },
      ];

      // All cases on all servers at once: the idle case waits out the 5 s handshake timeout.
      const runs = cluster.servers().flatMap((server) =>
        cases.map(async (c) => ({
          server,
          c,
          outcome: await sendOverWebsocket(server.rpcAddr, SERVER_PATH, c.messages),
        })),
      );
      for (const { server, c, outcome } of await Promise.all(runs)) {
        assert.equal(outcome.kind, 'closed', `${c.name} on ${server.name}: ${JSON.stringify(outcome)}`);
        const code = outcome.kind === 'closed' ? outcome.code : 0;
        assert.ok(
          c.codes.includes(code),
          `${c.name} on ${server.name}: close code ${code}, expected ${c.codes}`,
        );
      }
      await checkClusterHealthy(leader, term);
    }),
  );

  test(
    'other paths and raw bytes are rejected',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(30_000);
      const term = await raftTerm(leader);

      for (const server of cluster.servers()) {
        // The client path is served, but a server handshake frame is not a client request there.
        const onClientPath = await sendOverWebsocket(server.rpcAddr, '/v1/rpc/client', [forgedHello()]);
        assert.deepEqual(
          onClientPath,
          { kind: 'closed', code: 1002 },
          `hello on the client path of ${server.name}`,
        );
        for (const path of ['/', `${SERVER_PATH}/extra`, '/V1/RPC/SERVER', '/v1/rpc/server/../server%00']) {
          const outcome = await sendOverWebsocket(server.rpcAddr, path, [forgedHello()]);
          assert.deepEqual(
            outcome,
            { kind: 'rejected', status: 404 },
            `upgrade to ${path} on ${server.name}`,
          );
        }
        const plainHttp = await sendOverTcp(
          server.rpcAddr,
          Buffer.from(`GET ${SERVER_PATH} HTTP/1.1\r\nHost: x\r\n\r\n`),
        );
        assert.match(plainHttp, /^HTTP\/1\.1 426 /, `plain HTTP request on ${server.name}`);
        await sendOverTcp(server.rpcAddr, randomBytes(2048));
        await sendOverTcp(server.rpcAddr, Buffer.from('\r\n\r\n\0\0\0 GET / HTTP/9.9\r\n\r\n'));
        const afterUpgrade = await sendOverTcp(server.rpcAddr, upgradeThenGarbage(server.rpcAddr));
        assert.match(afterUpgrade, /^HTTP\/1\.1 101 /, `upgrade on ${server.name}`);
      }
      await checkClusterHealthy(leader, term);
    }),
  );

  test(
    'many idle connections do not block the cluster',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(30_000);
      const term = await raftTerm(leader);
      const follower = cluster.servers().find((server) => server !== leader)!;

      // More sockets than the transport lets wait for a handshake at once (64 by default): the
      // extra ones are rejected with 503, the others time out, and the links between servers stay up.
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, () => sendOverWebsocket(follower.rpcAddr, SERVER_PATH, [])),
      );
      const rejected = outcomes.filter((outcome) => outcome.kind === 'rejected');
      const closed = outcomes.filter((outcome) => outcome.kind === 'closed');
      assert.equal(rejected.length + closed.length, outcomes.length, JSON.stringify(outcomes));
      assert.ok(rejected.length > 0, 'some connections beyond the pending limit were rejected');
      assert.ok(
        rejected.every((outcome) => outcome.kind === 'rejected' && outcome.status === 503),
        JSON.stringify(rejected),
      );
      await checkClusterHealthy(leader, term);
    }),
  );
});
