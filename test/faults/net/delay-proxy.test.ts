import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ALL_PEERS, DelayProxy } from '../../../cluster/faults/net/delay-proxy.js';
import { Prng } from '../../sim/prng.js';

const HOST = '127.0.0.1';
const DELAY_MS = 120;
/** Enough bytes to fill the proxy's queue past its high-water mark several times. */
const LARGE_BYTES = 8 * 1024 * 1024;

/** Starts a server that sends back every byte it gets and ends when its client ends. */
async function startEchoServer(): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (socket) => socket.pipe(socket));
  server.listen({ host: HOST, port: 0 });
  await once(server, 'listening');
  return server;
}

function portOf(server: Server): number {
  const address = server.address();
  assert.equal(typeof address, 'object', `server address ${String(address)} is not a TCP address`);
  return (address as AddressInfo).port;
}

async function connectTo(port: number): Promise<Socket> {
  const socket = connect({ host: HOST, port });
  await once(socket, 'connect');
  return socket;
}

/** Reads from `socket` until `bytes` bytes arrived, and returns them. */
function readBytes(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < bytes) return;
      socket.off('data', onData);
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => {
      if (received < bytes) reject(new Error(`socket closed after ${received} of ${bytes} bytes`));
    });
  });
}

/** Seeded random bytes, so that a reordered, lost or changed byte shows in the comparison. */
function pattern(bytes: number, seed: number): Buffer {
  const random = new Prng(seed);
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = random.int(256);
  return data;
}

/** Sends `data` through `socket` and returns what came back and the round trip in ms. */
async function roundTrip(socket: Socket, data: Buffer): Promise<{ echoed: Buffer; ms: number }> {
  const started = performance.now();
  const echoed = readBytes(socket, data.length);
  socket.write(data);
  const result = await echoed;
  return { echoed: result, ms: performance.now() - started };
}

describe('delay proxy', () => {
  let echo: Server;
  let proxy: DelayProxy;

  before(async () => {
    echo = await startEchoServer();
    proxy = await DelayProxy.start({
      listenHost: HOST,
      listenPort: 0,
      targetHost: HOST,
      targetPort: portOf(echo),
      random: new Prng(7),
    });
  });

  after(async () => {
    await proxy.close();
    echo.close();
  });

  test('forwards bytes intact without a rule', async () => {
    proxy.setRules([]);
    const socket = await connectTo(proxy.port);
    const data = pattern(64 * 1024, 1);
    const { echoed } = await roundTrip(socket, data);
    assert.ok(echoed.equals(data), 'echoed bytes differ from those sent');
    socket.destroy();
  });

  test('delays each direction by the rule', async () => {
    proxy.setRules([{ peer: HOST, delayMs: DELAY_MS, jitterMs: 0 }]);
    const socket = await connectTo(proxy.port);
    const { echoed, ms } = await roundTrip(socket, Buffer.from('ping'));
    assert.equal(echoed.toString(), 'ping');
    assert.ok(ms >= 2 * DELAY_MS, `round trip took ${ms.toFixed(1)} ms, expected >= ${2 * DELAY_MS} ms`);
    socket.destroy();
  });

  test('leaves other peers undelayed', async () => {
    proxy.setRules([{ peer: '192.0.2.1', delayMs: 10_000, jitterMs: 0 }]);
    const socket = await connectTo(proxy.port);
    // A round trip that waited for the 10 s rule would run into the test's timeout.
    const { echoed } = await roundTrip(socket, Buffer.from('ping'));
    assert.equal(echoed.toString(), 'ping');
    socket.destroy();
  });

  test('keeps order under jitter and backpressure', { timeout: 60_000 }, async () => {
    proxy.setRules([{ peer: ALL_PEERS, delayMs: 20, jitterMs: 20 }]);
    const socket = await connectTo(proxy.port);
    const data = pattern(LARGE_BYTES, 2);
    // Many small writes give many chunks, each with its own jittered delay.
    const echoed = readBytes(socket, data.length);
    for (let offset = 0; offset < data.length; offset += 4096)
      socket.write(data.subarray(offset, offset + 4096));
    const result = await echoed;
    assert.equal(result.length, data.length);
    assert.ok(result.equals(data), 'echoed bytes arrived reordered or changed');
    socket.destroy();
  });

  test('applies a new rule to an open connection', async () => {
    proxy.setRules([]);
    const socket = await connectTo(proxy.port);
    await roundTrip(socket, Buffer.from('before'));
    proxy.setRules([{ peer: ALL_PEERS, delayMs: DELAY_MS, jitterMs: 0 }]);
    const { ms } = await roundTrip(socket, Buffer.from('after'));
    assert.ok(ms >= 2 * DELAY_MS, `round trip took ${ms.toFixed(1)} ms, expected >= ${2 * DELAY_MS} ms`);
    socket.destroy();
  });

  test('passes the end on after held bytes', async () => {
    proxy.setRules([{ peer: ALL_PEERS, delayMs: 50, jitterMs: 0 }]);
    const socket = await connectTo(proxy.port);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.end('last words');
    await once(socket, 'end');
    assert.equal(Buffer.concat(chunks).toString(), 'last words');
  });

  test('closes the client when the target refuses', async () => {
    const closed = createServer();
    closed.listen({ host: HOST, port: 0 });
    await once(closed, 'listening');
    const port = portOf(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refusing = await DelayProxy.start({
      listenHost: HOST,
      listenPort: 0,
      targetHost: HOST,
      targetPort: port,
      random: new Prng(8),
    });
    try {
      const socket = await connectTo(refusing.port);
      socket.on('error', () => undefined);
      await once(socket, 'close');
    } finally {
      await refusing.close();
    }
  });

  test('rejects an invalid rule', () => {
    assert.throws(() => proxy.setRules([{ peer: HOST, delayMs: -1, jitterMs: 0 }]), /invalid delayMs -1/);
    assert.throws(
      () => proxy.setRules([{ peer: '', delayMs: 1, jitterMs: 0 }]),
      /invalid delay rule peer ""/,
    );
  });
});
