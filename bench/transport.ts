import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { generateClusterKey } from '../src/rpc/cluster-key.js';
import { type Frame, RpcTransport } from '../src/rpc/transport.js';

/**
 * Two RpcTransports in one process on 127.0.0.1: a dials b. Both ends share one event loop, so
 * the figures include the receiver's work and measure the CPU cost of the transport (msgpackr,
 * ws, envelope checks) more than the network.
 */
const PAYLOAD_BYTES = 200;
/** One-way frames sent but not yet received, at most, so that the send buffer never fills. */
const ONE_WAY_WINDOW = 1000;
const ONE_WAY_SECONDS = 3;
const REQUESTS = 5000;
const WARMUP_REQUESTS = 500;

interface Pair {
  readonly a: RpcTransport;
  readonly b: RpcTransport;
  readonly bId: number;
  received: number;
}

async function startPair(): Promise<Pair> {
  const clusterKey = Buffer.from(generateClusterKey(), 'base64');
  const logger = pino({ level: 'warn' }, { write: () => {} });
  const common = {
    clusterKey,
    host: '127.0.0.1',
    port: 0,
    logger,
    onIntroduction: () => {},
    onRequest: (_from: number, frame: Frame) => Promise.resolve(frame),
  };
  const pair = { received: 0 } as Pair;
  const a = await RpcTransport.listen({
    ...common,
    nodeId: 1,
    introduction: () => ({ id: 1 }),
    onFrame: () => {},
  });
  const b = await RpcTransport.listen({
    ...common,
    nodeId: 2,
    introduction: () => ({ id: 2 }),
    onFrame: () => {
      pair.received++;
    },
  });
  Object.assign(pair, { a, b, bId: 2 });
  a.connect(`127.0.0.1:${b.port}`);
  const deadline = Date.now() + 5000;
  while (!a.connectedPeers().includes(2)) {
    if (Date.now() > deadline) throw new Error('bench transports did not connect within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return pair;
}

async function measureOneWay(pair: Pair): Promise<string> {
  const frame = { kind: 'raft', data: new Uint8Array(PAYLOAD_BYTES).fill(0x61) };
  let sent = 0;
  let dropped = 0;
  const startReceived = pair.received;
  const started = performance.now();
  const end = started + ONE_WAY_SECONDS * 1000;
  while (performance.now() < end) {
    while (sent - (pair.received - startReceived) < ONE_WAY_WINDOW) {
      if (pair.a.send(pair.bId, frame)) sent++;
      else dropped++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - started) / 1000;
  const framesPerSecond = Math.round((pair.received - startReceived) / seconds);
  return (
    `transport one-way: ${PAYLOAD_BYTES} B payload, window ${ONE_WAY_WINDOW}, ${ONE_WAY_SECONDS} s: ` +
    `${framesPerSecond} frames/s received, ${dropped} dropped`
  );
}

async function measureRequests(pair: Pair): Promise<string> {
  const frame = { kind: 'ping', data: new Uint8Array(PAYLOAD_BYTES).fill(0x61) };
  for (let i = 0; i < WARMUP_REQUESTS; i++) await pair.a.request(pair.bId, frame, 5000);
  const latenciesMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const before = performance.now();
    await pair.a.request(pair.bId, frame, 5000);
    latenciesMs.push(performance.now() - before);
  }
  const seconds = (performance.now() - started) / 1000;
  latenciesMs.sort((x, y) => x - y);
  const p50 = latenciesMs[Math.floor(REQUESTS * 0.5)]!;
  const p99 = latenciesMs[Math.floor(REQUESTS * 0.99)]!;
  return (
    `transport request: ${PAYLOAD_BYTES} B payload, one at a time, ${REQUESTS} requests: ` +
    `p50 ${(p50 * 1000).toFixed(0)} µs, p99 ${(p99 * 1000).toFixed(0)} µs, ${Math.round(REQUESTS / seconds)} requests/s`
  );
}

/** Runs each case on one fresh pair of transports and returns one line per case. */
export async function runTransportBench(): Promise<string[]> {
  const pair = await startPair();
  try {
    return [await measureOneWay(pair), await measureRequests(pair)];
  } finally {
    await Promise.all([pair.a.close(), pair.b.close()]);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runTransportBench()) console.log(line);
}
