import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ClientRpc, ClientRpcError } from '../../src/client/rpc-client.js';
import type { ClientRequestHandler } from '../../src/rpc/client-channel.js';
import { RequestError } from '../../src/server/request-error.js';
import { type ClientServer, startClientServer } from '../support/client-server.js';
import { LogCapture, waitFor } from './transport-support.js';

const started: ClientServer[] = [];
const clients: ClientRpc[] = [];
after(async () => {
  for (const client of clients) client.close();
  await Promise.all(started.map((server) => server.close()));
});

/** Starts a server whose handler returns its own name, after running `extra` when given. */
async function named(name: string, extra?: ClientRequestHandler): Promise<ClientServer> {
  const server = await startClientServer({
    handler: async (method, body, context) => {
      if (extra !== undefined) await extra(method, body, context);
      return { server: name, method, echo: body };
    },
  });
  started.push(server);
  return server;
}

function client(servers: string[], options: { holdTimeMs?: number; defaultTimeoutMs?: number } = {}) {
  const rpc = new ClientRpc({ servers, logger: new LogCapture().logger, ...options });
  clients.push(rpc);
  return rpc;
}

describe('ClientRpc', () => {
  test('fails over when its server closes', async () => {
    const a = await named('a');
    const b = await named('b');
    const rpc = client([a.address, b.address], { holdTimeMs: 3000 });
    const first = await rpc.call<{ server: string }>('Node.UpdateStatus', { n: 1 });
    const head = first.server === 'a' ? a : b;
    const other = head === a ? b : a;
    assert.equal(rpc.server, head.address);

    await head.close();
    const second = await rpc.call<{ server: string; echo: unknown }>('Node.UpdateStatus', { n: 2 });
    assert.equal(second.server, other === a ? 'a' : 'b');
    assert.deepEqual(second.echo, { n: 2 });
    assert.deepEqual(rpc.servers(), [other.address, head.address]);
  });

  test('call in flight moves to the next server', async () => {
    const hanging = await named('hanging', () => new Promise<void>(() => {}));
    const healthy = await named('healthy');
    // A random source of 0.99 leaves the two-server list in the order given.
    const rpc = new ClientRpc({
      servers: [hanging.address, healthy.address],
      logger: new LogCapture().logger,
      holdTimeMs: 3000,
      random: () => 0.99,
    });
    clients.push(rpc);
    assert.equal(rpc.server, hanging.address);
    const call = rpc.call<{ server: string }>(
      'Node.GetClientAllocs',
      { MaxQueryTime: 60_000 },
      { timeoutMs: 70_000 },
    );
    await waitFor(() => hanging.transport.clientConnections() === 1, 'the call to reach the first server');
    await hanging.close();
    const response = await call;
    assert.equal(response.server, 'healthy');
    assert.deepEqual(rpc.servers(), [healthy.address, hanging.address]);
  });

  test('learns servers from responses', async () => {
    const b = await named('b');
    const a = await startClientServer({
      handler: () => Promise.resolve({ Servers: [b.address, 'not an address', 42] }),
    });
    started.push(a);
    const rpc = client([a.address]);
    await rpc.call('Node.Register', {});
    assert.deepEqual(rpc.servers(), [a.address, b.address]);
  });

  test('no server within the hold time is UNAVAILABLE', async () => {
    const closed = await named('closed');
    await closed.close();
    const rpc = client([closed.address], { holdTimeMs: 300 });
    const started = performance.now();
    await assert.rejects(
      rpc.call('Node.UpdateStatus', {}),
      (err: unknown) =>
        err instanceof ClientRpcError && err.code === 'UNAVAILABLE' && err.server === closed.address,
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 300, `gave up after ${Math.round(elapsed)} ms, before the hold time`);
    assert.ok(elapsed < 3000, `gave up after ${Math.round(elapsed)} ms`);
  });

  test('server errors are REMOTE with status', async () => {
    const server = await startClientServer({
      handler: () => Promise.reject(new RequestError(403, 'Permission denied')),
    });
    started.push(server);
    const rpc = client([server.address]);
    await assert.rejects(
      rpc.call('Node.UpdateStatus', {}),
      (err: unknown) =>
        err instanceof ClientRpcError &&
        err.code === 'REMOTE' &&
        err.status === 403 &&
        err.message === 'Permission denied',
    );
    // A remote error does not count against the server.
    assert.equal(rpc.server, server.address);
  });

  test('no leader is retried on the same server', async () => {
    let calls = 0;
    const server = await startClientServer({
      handler: () => {
        calls++;
        return calls < 3
          ? Promise.reject(new RequestError(500, 'No cluster leader'))
          : Promise.resolve({ ok: 1 });
      },
    });
    started.push(server);
    const rpc = client([server.address], { holdTimeMs: 3000 });
    assert.deepEqual(await rpc.call('Node.UpdateStatus', {}), { ok: 1 });
    assert.equal(calls, 3);
  });

  test('attempt timeout moves to the next server', async () => {
    const stuck = await named('stuck', () => new Promise<void>(() => {}));
    const healthy = await named('healthy');
    const rpc = client([stuck.address, healthy.address], { holdTimeMs: 3000, defaultTimeoutMs: 200 });
    // Whichever the shuffle put first, the call ends on the healthy server.
    const response = await rpc.call<{ server: string }>('Node.UpdateStatus', {});
    assert.equal(response.server, 'healthy');
    assert.equal(rpc.server, healthy.address);
  });

  test('closed client rejects calls', async () => {
    const server = await named('x');
    const rpc = client([server.address]);
    rpc.close();
    await assert.rejects(
      rpc.call('Node.UpdateStatus', {}),
      (err: unknown) => err instanceof ClientRpcError && err.code === 'CLOSED',
    );
  });
});
