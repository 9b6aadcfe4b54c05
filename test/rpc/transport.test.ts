import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TransportError } from '../../src/rpc/transport.js';
import { LEVEL, startServer, type TestServer, waitFor } from './transport-support.js';

async function closeAll(servers: TestServer[]): Promise<void> {
  await Promise.all(servers.map((server) => server.transport.close()));
}

function sameMembers(actual: number[], expected: number[]): boolean {
  return JSON.stringify(actual) === JSON.stringify([...expected].sort((a, b) => a - b));
}

async function rejection(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TransportError, `expected a TransportError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}

describe('RpcTransport', () => {
  test('three servers link through retry_join addresses', async () => {
    const servers = await Promise.all([startServer(), startServer(), startServer()]);
    try {
      const addresses = servers.map((server) => server.address);
      for (const server of servers) for (const address of addresses) server.transport.connect(address);

      for (const server of servers) {
        const others = servers.filter((other) => other !== server).map((other) => other.id);
        await waitFor(() => sameMembers(server.transport.connectedPeers(), others), `peers of ${server.id}`);
        await waitFor(
          () => server.transport.links().filter((link) => link.state === 'connected').length === 2,
          `outbound links of ${server.id}`,
        );
        const selfLink = () => server.transport.links().find((link) => link.address === server.address);
        await waitFor(() => selfLink()?.state === 'self', `self link of ${server.id}`);
        assert.equal(selfLink()!.peerId, server.id);
      }

      // Every server introduces itself on both connections of each pair, with its proven id.
      for (const server of servers) {
        for (const other of servers.filter((s) => s !== server)) {
          await waitFor(
            () => server.introductions.filter((i) => i.peerId === other.id).length === 2,
            `two introductions of ${other.id} at ${server.id}`,
          );
          for (const { intro } of server.introductions.filter((i) => i.peerId === other.id)) {
            assert.deepEqual(intro, { id: other.id, name: `server-${other.id}` });
          }
        }
        assert.equal(
          server.introductions.some((i) => i.peerId === server.id),
          false,
        );
      }

      for (const from of servers) {
        for (const to of servers.filter((s) => s !== from)) {
          assert.equal(from.transport.send(to.id, { kind: 'raft', seq: from.id }), true);
          const response = await from.transport.request(to.id, { kind: 'ping', n: 7 }, 2000);
          assert.deepEqual(response, { kind: 'echo', from: from.id, request: { kind: 'ping', n: 7 } });
        }
      }
      for (const to of servers) {
        const senders = servers.filter((s) => s !== to).map((s) => s.id);
        await waitFor(() => to.frames.length === 2, `two frames at ${to.id}`);
        assert.deepEqual(
          to.frames.map((f) => f.from).sort((a, b) => a - b),
          [...senders].sort((a, b) => a - b),
        );
        for (const { from, frame } of to.frames) assert.deepEqual(frame, { kind: 'raft', seq: from });
      }
    } finally {
      await closeAll(servers);
    }
  });

  test('self address stops dialing', async () => {
    const server = await startServer();
    try {
      server.transport.connect(server.address);
      await waitFor(() => server.transport.links()[0]?.state === 'self', 'link to stop as self');
      assert.deepEqual(server.transport.links(), [
        { address: server.address, state: 'self', peerId: server.id },
      ]);
      assert.deepEqual(server.transport.connectedPeers(), []);
      const stopped = server.logs.withMessage('leads to this server itself');
      assert.equal(stopped.length, 1);
      assert.equal(stopped[0]!.level, LEVEL.info);
      assert.equal(stopped[0]!.address, server.address);
      assert.equal(server.transport.send(server.id, { kind: 'raft' }), false);
      // connect() is idempotent: the stopped link is not restarted.
      server.transport.connect(server.address);
      assert.equal(server.transport.links()[0]!.state, 'self');
    } finally {
      await server.transport.close();
    }
  });

  test('two addresses of one server keep one link', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    try {
      // 127.1 is another spelling of 127.0.0.1 that the URL parser accepts.
      const alias = `127.1:${b.transport.port}`;
      a.transport.connect(b.address);
      a.transport.connect(alias);
      await waitFor(
        () => a.transport.links().some((link) => link.state === 'duplicate'),
        'one of the two links to stop as a duplicate',
      );
      const states = a.transport.links().map((link) => link.state);
      assert.deepEqual(states.sort(), ['connected', 'duplicate']);
      assert.deepEqual(a.transport.connectedPeers(), [b.id]);
      assert.equal(a.logs.withMessage('already linked through another address').length, 1);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('request errors carry their code', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    try {
      a.transport.connect(b.address);
      await waitFor(() => a.transport.connectedPeers().includes(b.id), 'a to link to b');

      const remote = await rejection(a.transport.request(b.id, { kind: 'fail', what: 'that' }, 2000));
      assert.equal(remote.code, 'REMOTE');
      assert.equal(remote.message, 'cannot do that');
      assert.equal(remote.peerId, b.id);

      const timeout = await rejection(a.transport.request(b.id, { kind: 'hang' }, 50));
      assert.equal(timeout.code, 'TIMEOUT');

      const missing = await rejection(a.transport.request(12345, { kind: 'ping' }, 1000));
      assert.equal(missing.code, 'NOT_CONNECTED');
      assert.equal(missing.peerId, 12345);

      // b reaches a over the inbound connection that a dialed.
      const reverse = await b.transport.request(a.id, { kind: 'ping' }, 2000);
      assert.equal(reverse.from, b.id);

      // The handler is attached at once, because the rejection happens while close() runs.
      const pending = rejection(a.transport.request(b.id, { kind: 'hang' }, 10_000));
      await b.transport.close();
      const closed = await pending;
      assert.equal(closed.code, 'CLOSED');
    } finally {
      await closeAll([a, b]);
    }
  });

  test('close fails pending requests', async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    try {
      a.transport.connect(b.address);
      await waitFor(() => a.transport.connectedPeers().includes(b.id), 'a to link to b');
      const pending = rejection(a.transport.request(b.id, { kind: 'hang' }, 10_000));
      await a.transport.close();
      assert.equal((await pending).code, 'CLOSED');
      assert.equal((await rejection(a.transport.request(b.id, { kind: 'ping' }, 100))).code, 'CLOSED');
      assert.equal(a.transport.send(b.id, { kind: 'raft' }), false);
      assert.deepEqual(a.transport.connectedPeers(), []);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('restarted peer is redialed', async () => {
    const a = await startServer();
    let b = await startServer();
    const bId = b.id;
    const port = b.transport.port;
    try {
      a.transport.connect(b.address);
      await waitFor(() => a.transport.connectedPeers().includes(bId), 'first link');
      await b.transport.close();
      await waitFor(() => a.transport.connectedPeers().length === 0, 'a to notice that b stopped');
      assert.equal(a.logs.withMessage('lost connection to server').length, 1);

      b = await startServer({ id: bId, port });
      await waitFor(() => a.transport.connectedPeers().includes(bId), 'link to the restarted b');
      assert.equal(a.transport.send(bId, { kind: 'raft', after: 'restart' }), true);
      await waitFor(() => b.frames.length === 1, 'frame at the restarted b');
      assert.deepEqual(b.frames[0], { from: a.id, frame: { kind: 'raft', after: 'restart' } });
      const response = await b.transport.request(a.id, { kind: 'ping' }, 2000);
      assert.equal(response.from, b.id);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('forget stops redialing', async () => {
    const a = await startServer();
    const b = await startServer();
    const address = b.address;
    await b.transport.close();
    try {
      a.transport.connect(address);
      await waitFor(() => a.logs.withMessage('cannot connect to server').length >= 1, 'a failed dial');
      assert.equal(a.logs.withMessage('cannot connect to server')[0]!.level, LEVEL.info);
      a.transport.forget(address);
      assert.deepEqual(a.transport.links(), []);
    } finally {
      await a.transport.close();
    }
  });

  test('full send buffer drops one-way frames', async () => {
    const maxBufferedBytes = 256 * 1024;
    const [a, b] = await Promise.all([startServer({ maxBufferedBytes }), startServer()]);
    try {
      a.transport.connect(b.address);
      await waitFor(() => a.transport.connectedPeers().includes(b.id), 'a to link to b');
      // b runs in this process, so it reads nothing while this loop runs and the buffer fills.
      const blob = new Uint8Array(256 * 1024);
      let accepted = 0;
      let dropped = 0;
      for (let i = 0; i < 200; i++) {
        if (a.transport.send(b.id, { kind: 'raft', i, blob })) accepted++;
        else dropped++;
      }
      assert.ok(dropped > 0, 'expected some frames to be dropped');
      assert.ok(accepted > 0, 'expected the first frames to be sent');
      await waitFor(() => b.frames.length === accepted, `${accepted} frames at b`);
      assert.deepEqual(
        b.frames.map((f) => f.frame.i),
        b.frames.map((_, index) => index),
      );
      const drops = a.logs.withMessage('dropped one-way frame');
      assert.equal(drops.length, dropped);
      assert.equal(drops[0]!.level, LEVEL.debug);
      assert.equal(drops[0]!.peerId, b.id);
      // Once the buffer has drained, frames flow again.
      assert.equal(a.transport.send(b.id, { kind: 'raft', i: -1 }), true);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('one-way frames sent in one turn arrive in order, before a later request', async () => {
    let framesAtRequest = -1;
    const [a, b] = await Promise.all([
      startServer(),
      startServer({
        onRequest: (_from, frame) => {
          framesAtRequest = b.frames.length;
          return Promise.resolve({ kind: 'echo', request: frame });
        },
      }),
    ]);
    try {
      a.transport.connect(b.address);
      await waitFor(() => a.transport.connectedPeers().includes(b.id), 'a to link to b');
      for (let i = 0; i < 500; i++) assert.equal(a.transport.send(b.id, { kind: 'raft', i }), true);
      await a.transport.request(b.id, { kind: 'ping' }, 5000);
      assert.equal(framesAtRequest, 500, 'the request overtook one-way frames sent before it');
      assert.deepEqual(
        b.frames.map((f) => f.frame.i),
        Array.from({ length: 500 }, (_, i) => i),
      );
    } finally {
      await closeAll([a, b]);
    }
  });

  test('frame above the limit is not sent', async () => {
    const [a, b] = await Promise.all([startServer({ maxFrameBytes: 1024 }), startServer()]);
    try {
      a.transport.connect(b.address);
      await waitFor(() => a.transport.connectedPeers().includes(b.id), 'a to link to b');
      assert.throws(
        () => a.transport.send(b.id, { kind: 'raft', blob: new Uint8Array(2048) }),
        /above the limit/,
      );
      await assert.rejects(
        a.transport.request(b.id, { kind: 'ping', blob: new Uint8Array(2048) }, 1000),
        /above the limit/,
      );
      assert.deepEqual(a.transport.connectedPeers(), [b.id]);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('invalid address is rejected', async () => {
    const a = await startServer();
    try {
      for (const address of [
        '127.0.0.1',
        '127.0.0.1:0',
        '127.0.0.1:70000',
        ':4647',
        'a b:1',
        'user@h:1',
        'h:1/x',
      ]) {
        assert.throws(() => a.transport.connect(address), /invalid server address/, address);
      }
      assert.deepEqual(a.transport.links(), []);
    } finally {
      await a.transport.close();
    }
  });
});
