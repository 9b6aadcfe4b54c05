import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { describe, test } from 'node:test';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { MAX_UNAUTHENTICATED_BYTES, SERVER_RPC_PATH } from '../../src/rpc/connection.js';
import { encodeFrame } from '../../src/rpc/frames.js';
import { answerChallenge, type Challenge, handshakeKey } from '../../src/rpc/handshake.js';
import { MAX_BATCH_FRAMES } from '../../src/rpc/one-way-batch.js';
import {
  LEVEL,
  type LogCapture,
  RawClient,
  sharedKey,
  startServer,
  type TestServer,
  waitFor,
} from './transport-support.js';

const MAX_FRAME_BYTES = 64 * 1024;
const RAW_CLIENT_ID = 424242;

/** Asserts that no log line contains the cluster key or the handshake key in any usual encoding. */
function assertNoKeyMaterial(logs: LogCapture, clusterKey: Buffer): void {
  const derived = handshakeKey(clusterKey);
  const text = logs.text.join('');
  for (const secret of [clusterKey, derived]) {
    for (const encoding of ['base64', 'hex', 'base64url'] as const) {
      assert.equal(text.includes(secret.toString(encoding)), false, `log contains a key in ${encoding}`);
    }
  }
  // Buffers that pino serialises as {"type":"Buffer","data":[...]}.
  assert.equal(text.includes(JSON.stringify([...clusterKey])), false);
  assert.equal(text.includes(JSON.stringify([...derived])), false);
}

/** Starts the server under attack and a good peer linked to it. */
async function startPair(options: Parameters<typeof startServer>[0] = {}): Promise<[TestServer, TestServer]> {
  const target = await startServer({ maxFrameBytes: MAX_FRAME_BYTES, handshakeTimeoutMs: 500, ...options });
  const good = await startServer({ maxFrameBytes: MAX_FRAME_BYTES });
  good.transport.connect(target.address);
  await waitFor(() => target.transport.connectedPeers().includes(good.id), 'the good peer to link');
  return [target, good];
}

/** Checks that the target still exchanges frames and requests with the good peer. */
async function assertStillServing(target: TestServer, good: TestServer): Promise<void> {
  const before = good.frames.length;
  assert.equal(target.transport.send(good.id, { kind: 'raft', check: true }), true);
  await waitFor(() => good.frames.length === before + 1, 'a frame at the good peer');
  const response = await good.transport.request(target.id, { kind: 'ping' }, 2000);
  assert.equal(response.from, good.id);
  assert.deepEqual(target.transport.connectedPeers(), [good.id]);
}

/** Runs the handshake as a legitimate dialer would, up to and including the server's introduction. */
async function authenticate(raw: RawClient, key: Buffer = sharedKey): Promise<void> {
  const challenge = await raw.nextFrame();
  assert.equal(challenge.kind, 'handshake');
  const hello = answerChallenge(handshakeKey(key), challenge.step as Challenge, RAW_CLIENT_ID);
  raw.sendFrame({ kind: 'handshake', step: hello });
  const welcome = await raw.nextFrame();
  assert.equal(welcome.kind, 'handshake');
  const introduction = await raw.nextFrame();
  assert.equal(introduction.kind, 'introduction');
}

async function introduce(raw: RawClient): Promise<void> {
  await authenticate(raw);
  raw.sendFrame({ kind: 'introduction', introduction: { id: RAW_CLIENT_ID } });
}

interface HostileCase {
  readonly name: string;
  readonly act: (raw: RawClient) => Promise<void>;
  readonly reason: string;
  readonly closeCode: number;
}

// 0xc1 is the one byte that MessagePack never uses, so these bytes cannot decode.
const garbage = Buffer.from([0xc1, 0xc1, 0xc1, 0x00, 0xff]);

const cases: HostileCase[] = [
  {
    name: 'garbage before the handshake',
    act: async (raw) => {
      await raw.nextFrame();
      raw.ws.send(garbage);
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'hello with a forged proof',
    act: async (raw) => {
      const challenge = await raw.nextFrame();
      const hello = answerChallenge(handshakeKey(sharedKey), challenge.step as Challenge, RAW_CLIENT_ID);
      raw.sendFrame({ kind: 'handshake', step: { ...hello, proof: randomBytes(32) } });
    },
    reason: 'handshake-failed',
    closeCode: 1008,
  },
  {
    name: 'hello under another key',
    act: async (raw) => {
      const challenge = await raw.nextFrame();
      const otherKey = handshakeKey(Buffer.from(generateClusterKey(), 'base64'));
      raw.sendFrame({ kind: 'handshake', step: answerChallenge(otherKey, challenge.step as Challenge, 7) });
    },
    reason: 'handshake-failed',
    closeCode: 1008,
  },
  {
    name: 'one-way frame before the hello',
    act: async (raw) => {
      await raw.nextFrame();
      raw.sendFrame({ kind: 'one-way', frame: { kind: 'raft' } });
    },
    reason: 'unexpected-frame',
    closeCode: 1002,
  },
  {
    name: 'bytes above the unauthenticated limit',
    act: async (raw) => {
      await raw.nextFrame();
      raw.ws.send(
        encodeFrame({ kind: 'handshake', step: { pad: new Uint8Array(MAX_UNAUTHENTICATED_BYTES) } }),
      );
    },
    reason: 'handshake-too-large',
    closeCode: 1008,
  },
  {
    name: 'text message',
    act: async (raw) => {
      await raw.nextFrame();
      raw.ws.send('{"kind":"handshake"}');
    },
    reason: 'text-frame',
    closeCode: 1003,
  },
  {
    name: 'silence after the challenge',
    act: async (raw) => {
      await raw.nextFrame();
    },
    reason: 'handshake-timeout',
    closeCode: 1008,
  },
  {
    name: 'garbage after the handshake',
    act: async (raw) => {
      await authenticate(raw);
      raw.ws.send(garbage);
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'frame before the introduction',
    act: async (raw) => {
      await authenticate(raw);
      raw.sendFrame({ kind: 'one-way', frame: { kind: 'raft' } });
    },
    reason: 'unexpected-frame',
    closeCode: 1002,
  },
  {
    name: 'garbage after the introductions',
    act: async (raw) => {
      await introduce(raw);
      raw.ws.send(garbage);
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'unknown frame kind',
    act: async (raw) => {
      await introduce(raw);
      raw.sendFrame({ kind: 'raft', message: {} });
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'application frame without a kind',
    act: async (raw) => {
      await introduce(raw);
      raw.sendFrame({ kind: 'one-way', frame: { message: {} } });
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'garbage inside a one-way batch',
    act: async (raw) => {
      await introduce(raw);
      raw.sendFrame({ kind: 'one-way-batch', frames: [encodeFrame({ kind: 'raft' }), garbage] });
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'a one-way batch of too many frames',
    act: async (raw) => {
      await introduce(raw);
      const tiny = encodeFrame({ kind: 'raft' });
      raw.sendFrame({
        kind: 'one-way-batch',
        frames: Array.from({ length: MAX_BATCH_FRAMES + 1 }, () => tiny),
      });
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'a one-way batch that is not a list of binary frames',
    act: async (raw) => {
      await introduce(raw);
      raw.sendFrame({ kind: 'one-way-batch', frames: [{ kind: 'raft' }] });
    },
    reason: 'malformed-frame',
    closeCode: 1002,
  },
  {
    name: 'handshake frame after the introductions',
    act: async (raw) => {
      await introduce(raw);
      raw.sendFrame({ kind: 'handshake', step: {} });
    },
    reason: 'unexpected-frame',
    closeCode: 1002,
  },
  {
    name: 'frame above maxFrameBytes',
    act: async (raw) => {
      await introduce(raw);
      raw.ws.send(
        encodeFrame(
          { kind: 'one-way', frame: { kind: 'raft', blob: new Uint8Array(MAX_FRAME_BYTES) } },
          2 * MAX_FRAME_BYTES,
        ),
      );
    },
    reason: 'frame-too-large',
    closeCode: 1009,
  },
];

describe('RpcTransport against hostile input', () => {
  for (const { name, act, reason, closeCode } of cases) {
    test(`closes on ${name}`, async () => {
      const [target, good] = await startPair();
      const raw = new RawClient(target.transport.port);
      try {
        await raw.opened();
        await act(raw);
        const closed = await raw.closed;
        assert.equal(closed.code, closeCode);

        await waitFor(() => target.logs.withReason(reason).length > 0, `a log line with reason ${reason}`);
        const [line] = target.logs.withReason(reason);
        assert.equal(line!.level, LEVEL.warn);
        assert.match(String(line!.remoteAddress), /^127\.0\.0\.1:\d+$/);
        assert.equal(typeof line!.detail, 'string');
        assert.deepEqual(
          target.frames.filter((f) => f.from === RAW_CLIENT_ID),
          [],
        );
        await assertStillServing(target, good);
        assertNoKeyMaterial(target.logs, sharedKey);
      } finally {
        raw.terminate();
        await Promise.all([target.transport.close(), good.transport.close()]);
      }
    });
  }

  test('closes a peer that stops answering pings', async () => {
    // 250 ms leaves the good peer time to send its pongs on a loaded machine. The raw client sends none.
    const [target, good] = await startPair({ heartbeatIntervalMs: 250 });
    const raw = new RawClient(target.transport.port, SERVER_RPC_PATH, { autoPong: false });
    try {
      await raw.opened();
      await introduce(raw);
      const closed = await raw.closed;
      assert.equal(closed.code, 1001);
      assert.equal(target.logs.withReason('heartbeat-timeout')[0]!.level, LEVEL.warn);
      await assertStillServing(target, good);
    } finally {
      raw.terminate();
      await Promise.all([target.transport.close(), good.transport.close()]);
    }
  });

  test('rejects another websocket path', async () => {
    const target = await startServer();
    const raw = new RawClient(target.transport.port, '/v1/rpc/client');
    try {
      await assert.rejects(raw.opened(), /HTTP 404/);
    } finally {
      raw.terminate();
      await target.transport.close();
    }
  });

  test('answers plain HTTP with 426', async () => {
    const target = await startServer();
    try {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        get(`http://127.0.0.1:${target.transport.port}${SERVER_RPC_PATH}`, (response) => {
          response.resume();
          resolve(response.statusCode);
        }).on('error', reject);
      });
      assert.equal(status, 426);
    } finally {
      await target.transport.close();
    }
  });

  test('limits pending handshakes', async () => {
    const target = await startServer({ maxPendingHandshakes: 2 });
    const silent = [new RawClient(target.transport.port), new RawClient(target.transport.port)];
    const extra: RawClient[] = [];
    try {
      for (const raw of silent) await raw.opened();
      const refused = new RawClient(target.transport.port);
      extra.push(refused);
      await assert.rejects(refused.opened(), /HTTP 503/);
      const [line] = target.logs.withReason('too-many-pending-handshakes');
      assert.equal(line!.level, LEVEL.warn);
      assert.equal(line!.limit, 2);

      // An authenticated connection frees its slot at once.
      await introduce(silent[0]!);
      const next = new RawClient(target.transport.port);
      extra.push(next);
      await next.opened();
      const full = new RawClient(target.transport.port);
      extra.push(full);
      await assert.rejects(full.opened(), /HTTP 503/);

      // A closed one frees its slot once the server handles the socket's close event.
      silent[1]!.terminate();
      const deadline = Date.now() + 5000;
      for (;;) {
        const attempt = new RawClient(target.transport.port);
        extra.push(attempt);
        try {
          await attempt.opened();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
        }
      }
    } finally {
      for (const raw of [...silent, ...extra]) raw.terminate();
      await target.transport.close();
    }
  });

  test('server with another cluster key cannot deliver frames', async () => {
    const otherKey = Buffer.from(generateClusterKey(), 'base64');
    const [target, good] = await startPair();
    const intruder = await startServer({ clusterKey: otherKey });
    try {
      intruder.transport.connect(target.address);
      target.transport.connect(intruder.address);
      // Both directions fail: the target rejects the intruder's hello, and the intruder's welcome
      // check rejects the target (or the intruder rejects the target's hello, when it accepts).
      await waitFor(
        () => target.logs.withReason('handshake-failed').length > 0,
        'the target to reject the intruder',
      );
      await waitFor(
        () =>
          intruder.logs.withReason('handshake-failed').length +
            intruder.logs.withReason('handshake-rejected').length >
          0,
        'the intruder to see the rejection',
      );
      const [line] = target.logs.withReason('handshake-failed');
      assert.equal(line!.level, LEVEL.warn);
      assert.match(String(line!.detail), /server\.encrypt/);

      assert.equal(intruder.transport.send(target.id, { kind: 'raft' }), false);
      assert.deepEqual(intruder.transport.connectedPeers(), []);
      assert.deepEqual(target.transport.connectedPeers(), [good.id]);
      assert.deepEqual(
        target.frames.filter((f) => f.from === intruder.id),
        [],
      );
      assert.equal(
        target.introductions.some((i) => i.peerId === intruder.id),
        false,
      );
      await assertStillServing(target, good);
      assertNoKeyMaterial(target.logs, sharedKey);
      assertNoKeyMaterial(intruder.logs, otherKey);
      assertNoKeyMaterial(intruder.logs, sharedKey);
    } finally {
      await Promise.all([target.transport.close(), good.transport.close(), intruder.transport.close()]);
    }
  });
});
