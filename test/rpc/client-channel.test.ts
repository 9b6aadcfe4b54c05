import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { CLIENT_RPC_PATH } from '../../src/rpc/client-frames.js';
import { RequestError } from '../../src/server/request-error.js';
import { type ClientServer, type ClientServerOptions, startClientServer } from '../support/client-server.js';
import { registration } from '../support/workload.js';
import { RawClient, startServer, waitFor } from './transport-support.js';

const MAX_CLIENT_FRAME_BYTES = 16 * 1024;

const servers: ClientServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function start(options: ClientServerOptions = {}): Promise<ClientServer> {
  const server = await startClientServer({
    ...options,
    transport: {
      maxClientFrameBytes: MAX_CLIENT_FRAME_BYTES,
      handshakeTimeoutMs: 2000,
      ...options.transport,
    },
  });
  servers.push(server);
  return server;
}

async function connect(server: ClientServer): Promise<RawClient> {
  const raw = new RawClient(server.transport.port, CLIENT_RPC_PATH);
  await raw.opened();
  return raw;
}

/** Sends one request and returns the next frame, which must be its response. */
async function request(raw: RawClient, id: number, method: string, body: Record<string, unknown>) {
  raw.sendFrame({ kind: 'request', id, method, body });
  const response = await raw.nextFrame();
  assert.equal(response.kind, 'response');
  assert.equal(response.id, id);
  return response;
}

describe('client channel', () => {
  test('register and heartbeat round trip', async () => {
    const server = await start();
    const raw = await connect(server);
    const node = registration();
    const registered = await request(raw, 1, 'Node.Register', { Node: node });
    assert.equal(registered.ok, true);
    const body = registered.body as Record<string, unknown>;
    assert.ok((body.HeartbeatTTL as number) >= 10_000);
    assert.deepEqual(body.Servers, [server.address]);

    const heartbeat = await request(raw, 2, 'Node.UpdateStatus', {
      NodeID: node.ID,
      SecretID: node.SecretID,
      Status: 'ready',
    });
    assert.equal(heartbeat.ok, true);
    raw.terminate();
  });

  test('wrong secret gets 403 and the connection stays', async () => {
    const server = await start();
    const raw = await connect(server);
    const node = registration();
    await request(raw, 1, 'Node.Register', { Node: node });
    const denied = await request(raw, 2, 'Node.UpdateStatus', {
      NodeID: node.ID,
      SecretID: randomUUID(),
      Status: 'ready',
    });
    assert.equal(denied.ok, false);
    assert.deepEqual(denied.error, { status: 403, message: 'Permission denied' });
    const allowed = await request(raw, 3, 'Node.UpdateStatus', {
      NodeID: node.ID,
      SecretID: node.SecretID,
      Status: 'ready',
    });
    assert.equal(allowed.ok, true);
    raw.terminate();
  });

  test('unknown method gets 404 and the connection stays', async () => {
    const server = await start();
    const raw = await connect(server);
    const unknown = await request(raw, 7, 'Job.Explode', {});
    assert.equal(unknown.ok, false);
    assert.deepEqual(unknown.error, { status: 404, message: "rpc: can't find method Job.Explode" });
    const next = await request(raw, 8, 'Node.Register', { Node: registration() });
    assert.equal(next.ok, true);
    raw.terminate();
  });

  test('handler bug becomes a 500', async () => {
    const server = await start({
      handler: (method) =>
        method === 'Boom'
          ? Promise.reject(new TypeError('cannot read properties of undefined'))
          : Promise.reject(new RequestError(409, 'conflict')),
    });
    const raw = await connect(server);
    const boom = await request(raw, 1, 'Boom', {});
    assert.deepEqual(boom.error, { status: 500, message: 'cannot read properties of undefined' });
    const conflict = await request(raw, 2, 'Other', {});
    assert.deepEqual(conflict.error, { status: 409, message: 'conflict' });
    assert.equal(server.logs.withMessage('client request handler failed').length, 1);
    raw.terminate();
  });

  const hostile: {
    name: string;
    send: (raw: RawClient) => void;
    reason: string;
    code: number;
  }[] = [
    {
      name: 'garbage bytes',
      send: (raw) => raw.ws.send(Buffer.from([0xc1, 0xc1, 0x00, 0xff])),
      reason: 'malformed-frame',
      code: 1002,
    },
    {
      name: 'a frame that is not a request',
      send: (raw) => raw.sendFrame({ kind: 'handshake', step: {} }),
      reason: 'malformed-frame',
      code: 1002,
    },
    {
      name: 'a request without a body',
      send: (raw) => raw.sendFrame({ kind: 'request', id: 1, method: 'Node.Register' }),
      reason: 'malformed-frame',
      code: 1002,
    },
    {
      name: 'a request with id 0',
      send: (raw) => raw.sendFrame({ kind: 'request', id: 0, method: 'Node.Register', body: {} }),
      reason: 'malformed-frame',
      code: 1002,
    },
    {
      name: 'a text message',
      send: (raw) => raw.ws.send('{"kind":"request"}'),
      reason: 'text-frame',
      code: 1003,
    },
    {
      name: 'an oversized frame',
      send: (raw) => raw.ws.send(Buffer.alloc(MAX_CLIENT_FRAME_BYTES + 1)),
      reason: 'frame-too-large',
      code: 1009,
    },
  ];

  for (const { name, send, reason, code } of hostile) {
    test(`closes on ${name}`, async () => {
      const server = await start();
      const raw = await connect(server);
      send(raw);
      const closed = await raw.closed;
      assert.equal(closed.code, code);
      await waitFor(() => server.logs.withReason(reason).length > 0, `a log line with reason ${reason}`);
      const line = server.logs.withReason(reason)[0]!;
      assert.equal(line.msg, 'closing client connection');
      // The server still serves other clients.
      const other = await connect(server);
      const response = await request(other, 1, 'Node.Register', { Node: registration() });
      assert.equal(response.ok, true);
      other.terminate();
    });
  }

  test('silent client is closed after the first-frame timeout', async () => {
    const server = await start({ transport: { handshakeTimeoutMs: 200 } });
    const raw = await connect(server);
    const closed = await raw.closed;
    assert.equal(closed.code, 1008);
    const lines = server.logs.withReason('first-frame-timeout');
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['closing client connection', 'client connection closed'],
    );
  });

  test('pending limit counts clients until their first frame', async () => {
    const server = await start({ transport: { maxPendingHandshakes: 2 } });
    const first = await connect(server);
    const second = await connect(server);
    await assert.rejects(connect(server), /HTTP 503/);
    await request(first, 1, 'Node.Register', { Node: registration() });
    const third = await connect(server);
    await request(third, 1, 'Node.Register', { Node: registration() });
    for (const raw of [first, second, third]) raw.terminate();
  });

  test('closing the socket ends a blocking query', async () => {
    const server = await start();
    const raw = await connect(server);
    const node = registration();
    await request(raw, 1, 'Node.Register', { Node: node });
    const auth = { NodeID: node.ID, SecretID: node.SecretID };
    const first = await request(raw, 2, 'Node.GetClientAllocs', { ...auth, MinQueryIndex: 0 });
    const index = (first.body as { Index: number }).Index;
    raw.sendFrame({
      kind: 'request',
      id: 3,
      method: 'Node.GetClientAllocs',
      body: { ...auth, MinQueryIndex: index, MaxQueryTime: 60_000 },
    });
    await waitFor(() => server.state.pendingWaits('allocs') === 1, 'the blocking query to wait');
    raw.terminate();
    await waitFor(() => server.state.pendingWaits('allocs') === 0, 'the blocking query to end');
    await waitFor(() => server.transport.clientConnections() === 0, 'the connection to be dropped');
  });

  test('client path is 404 without a handler', async () => {
    const plain = await startServer();
    try {
      const raw = new RawClient(plain.transport.port, CLIENT_RPC_PATH);
      await assert.rejects(raw.opened(), /HTTP 404/);
    } finally {
      await plain.transport.close();
    }
  });
});
