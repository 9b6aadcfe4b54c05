import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HEARTBEAT_DEFAULTS, Heartbeats, type HeartbeatTimers } from '../../src/server/heartbeats.js';
import { RequestError } from '../../src/server/request-error.js';
import { LogCapture } from '../rpc/transport-support.js';

/** Timers on a clock that moves only through `advance`. */
class FakeTimers implements HeartbeatTimers {
  now = 0;
  #nextHandle = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  get pending(): number {
    return this.#timers.size;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#nextHandle++;
    this.#timers.set(handle, { at: this.now + ms, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Moves the clock by `ms`, firing every timer due on the way, earliest first. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | null = null;
      for (const entry of this.#timers)
        if (entry[1].at <= target && (next === null || entry[1].at < next[1].at)) next = entry;
      if (next === null) break;
      this.#timers.delete(next[0]);
      this.now = next[1].at;
      next[1].callback();
    }
    this.now = target;
  }

  /** Moves the clock by `ms` with no timer firing, as a stalled process does, then fires what is due. */
  stall(ms: number): void {
    const resumed = this.now + ms;
    const due = [...this.#timers].filter(([, timer]) => timer.at <= resumed);
    this.now = resumed;
    for (const [handle, timer] of due) {
      this.#timers.delete(handle);
      timer.callback();
    }
  }
}

function setUp(random = 0.5, options: ConstructorParameters<typeof Heartbeats>[0]['options'] = {}) {
  const timers = new FakeTimers();
  const expired: string[] = [];
  const logs = new LogCapture();
  const heartbeats = new Heartbeats({
    options: {
      minHeartbeatTtlMs: 10_000,
      heartbeatGraceMs: 10_000,
      failoverHeartbeatTtlMs: 300_000,
      ...options,
    },
    timers,
    now: () => timers.now,
    random: () => random,
    logger: logs.logger,
    onExpired: (nodeId) => {
      expired.push(nodeId);
    },
  });
  return { timers, expired, heartbeats, logs };
}

describe('Heartbeats', () => {
  test('defaults are Nomad values', () => {
    assert.equal(HEARTBEAT_DEFAULTS.minHeartbeatTtlMs, 10_000);
    assert.equal(HEARTBEAT_DEFAULTS.maxHeartbeatsPerSecond, 50);
    assert.equal(HEARTBEAT_DEFAULTS.heartbeatGraceMs, 10_000);
    assert.equal(HEARTBEAT_DEFAULTS.failoverHeartbeatTtlMs, 300_000);
  });

  test('a timer that fires late after a stall gives the failover TTL', () => {
    const { timers, expired, heartbeats, logs } = setUp(0.5);
    heartbeats.start([]);
    heartbeats.heartbeat('a');
    // Due after 25 s (TTL 15 s plus 10 s grace); the process was stopped for 60 s.
    timers.stall(60_000);
    assert.deepEqual(expired, []);
    assert.ok(heartbeats.has('a'));
    assert.ok(logs.lines.some((line) => /stalled/.test(String(line.msg))));
    // Silent through the failover TTL, the node does expire.
    timers.advance(300_000);
    assert.deepEqual(expired, ['a']);
  });

  test('TTL is the minimum plus stagger', () => {
    const { heartbeats } = setUp(0.5);
    heartbeats.start([]);
    assert.equal(heartbeats.heartbeat('a'), 15_000);
  });

  test('TTL grows with the number of nodes', () => {
    const { heartbeats } = setUp(0);
    heartbeats.start(Array.from({ length: 1000 }, (_, i) => `node-${i}`));
    // 1000 nodes at 50 heartbeats per second: 20 s between heartbeats of one node.
    assert.equal(heartbeats.heartbeat('node-0'), 20_000);
  });

  test('node expires after TTL plus grace', () => {
    const { heartbeats, timers, expired } = setUp(0.5);
    heartbeats.start([]);
    const ttl = heartbeats.heartbeat('a');
    timers.advance(ttl + 10_000 - 1);
    assert.deepEqual(expired, []);
    timers.advance(1);
    assert.deepEqual(expired, ['a']);
    assert.equal(heartbeats.has('a'), false);
  });

  test('heartbeat resets the timer', () => {
    const { heartbeats, timers, expired } = setUp(0);
    heartbeats.start([]);
    heartbeats.heartbeat('a');
    timers.advance(19_000);
    heartbeats.heartbeat('a');
    timers.advance(19_000);
    assert.deepEqual(expired, []);
    assert.equal(timers.pending, 1);
    timers.advance(1_000);
    assert.deepEqual(expired, ['a']);
  });

  test('start gives every node the failover TTL', () => {
    const { heartbeats, timers, expired } = setUp(0, { failoverHeartbeatTtlMs: 60_000 });
    heartbeats.start(['a', 'b']);
    assert.equal(heartbeats.size, 2);
    // Far beyond a normal TTL plus grace (20 s), but within the failover TTL.
    timers.advance(59_999);
    assert.deepEqual(expired, []);
    heartbeats.heartbeat('a');
    timers.advance(1);
    assert.deepEqual(expired, ['b']);
    timers.advance(20_000);
    assert.deepEqual(expired, ['b', 'a']);
  });

  test('stop clears every timer', () => {
    const { heartbeats, timers, expired } = setUp(0);
    heartbeats.start(['a', 'b', 'c']);
    heartbeats.heartbeat('d');
    heartbeats.stop();
    assert.equal(heartbeats.running, false);
    assert.equal(heartbeats.size, 0);
    assert.equal(timers.pending, 0);
    timers.advance(1_000_000);
    assert.deepEqual(expired, []);
  });

  test('heartbeat off the leader throws 500', () => {
    const { heartbeats } = setUp();
    assert.throws(
      () => heartbeats.heartbeat('a'),
      (err: unknown) => err instanceof RequestError && err.status === 500,
    );
  });

  test('clear removes one node timer', () => {
    const { heartbeats, timers, expired } = setUp(0);
    heartbeats.start(['a', 'b']);
    heartbeats.clear('a');
    timers.advance(300_000);
    assert.deepEqual(expired, ['b']);
  });

  test('failing expiry handler is logged', async () => {
    const timers = new FakeTimers();
    const logs = new LogCapture();
    const heartbeats = new Heartbeats({
      timers,
      random: () => 0,
      logger: logs.logger,
      onExpired: (nodeId) =>
        nodeId === 'sync' ? assert.fail('handler threw') : Promise.reject(new Error('apply failed')),
    });
    heartbeats.start(['sync', 'async']);
    timers.advance(HEARTBEAT_DEFAULTS.failoverHeartbeatTtlMs);
    await new Promise((resolve) => setImmediate(resolve));
    const failures = logs.withMessage('handling a missed heartbeat failed');
    assert.deepEqual(failures.map((line) => line.nodeId).sort(), ['async', 'sync']);
  });
});
