import type { Logger } from 'pino';
import { RequestError } from './request-error.js';

/**
 * Heartbeat timing. The defaults are Nomad's (nomad/config.go): `min_heartbeat_ttl` 10 s,
 * `max_heartbeats_per_second` 50, `heartbeat_grace` 10 s, and FailoverHeartbeatTTL 300 s.
 */
export interface HeartbeatOptions {
  /** Shortest TTL handed to a client, before the random stagger, in ms. */
  readonly minHeartbeatTtlMs: number;
  /** Heartbeats per second that the leader aims to receive at most; more nodes get longer TTLs. */
  readonly maxHeartbeatsPerSecond: number;
  /** Time the leader waits past a TTL before it marks the node down, in ms. */
  readonly heartbeatGraceMs: number;
  /**
   * Timer given to every node that is not down when a server takes office, in ms. It is long
   * so that clients whose server failed have time to find another one before they count as missed.
   */
  readonly failoverHeartbeatTtlMs: number;
}

export const HEARTBEAT_DEFAULTS: HeartbeatOptions = Object.freeze({
  minHeartbeatTtlMs: 10_000,
  maxHeartbeatsPerSecond: 50,
  heartbeatGraceMs: 10_000,
  failoverHeartbeatTtlMs: 300_000,
});

/** Timer functions, injected so that tests drive time. The defaults are the global ones. */
export interface HeartbeatTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Lateness of a timer, in ms, beyond which the server counts as stalled rather than the node as silent. */
const STALL_TOLERANCE_MS = 1000;

const GLOBAL_TIMERS: HeartbeatTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface HeartbeatsConfig {
  readonly options?: Partial<HeartbeatOptions>;
  /** Called when a node's timer runs out; the leader then marks the node down. */
  readonly onExpired: (nodeId: string) => void | Promise<void>;
  readonly timers?: HeartbeatTimers;
  /** Uniform in [0, 1); draws the stagger added to each TTL. Default Math.random. */
  readonly random?: () => number;
  /** Monotonic clock in ms, to tell a timer that fired late. Default performance.now. */
  readonly now?: () => number;
  readonly logger: Logger;
}

/**
 * The leader's heartbeat timers, one per client node. A node's timer is reset by each heartbeat
 * to the TTL handed out plus the grace, and when it runs out `onExpired` is called once. Only the
 * leader runs timers: `start` on taking office, `stop` on losing it.
 */
export class Heartbeats {
  readonly #options: HeartbeatOptions;
  readonly #onExpired: (nodeId: string) => void | Promise<void>;
  readonly #timers: HeartbeatTimers;
  readonly #random: () => number;
  readonly #logger: Logger;
  readonly #pending = new Map<string, unknown>();
  /** When each pending timer is due, on the `now` clock. */
  readonly #due = new Map<string, number>();
  readonly #now: () => number;
  #running = false;

  constructor(config: HeartbeatsConfig) {
    this.#options = { ...HEARTBEAT_DEFAULTS, ...config.options };
    this.#onExpired = config.onExpired;
    this.#timers = config.timers ?? GLOBAL_TIMERS;
    this.#random = config.random ?? Math.random;
    this.#now = config.now ?? (() => performance.now());
    this.#logger = config.logger;
  }

  /** True between `start` and `stop`. */
  get running(): boolean {
    return this.#running;
  }

  /** Number of nodes with a timer. */
  get size(): number {
    return this.#pending.size;
  }

  /** True when `nodeId` has a timer. */
  has(nodeId: string): boolean {
    return this.#pending.has(nodeId);
  }

  /**
   * Starts the timers on taking office: each of `nodeIds` (the nodes that are not down) gets the
   * failover TTL, so that a change of leader never marks a healthy node down.
   */
  start(nodeIds: Iterable<string>): void {
    this.stop();
    this.#running = true;
    let count = 0;
    for (const nodeId of nodeIds) {
      this.#arm(nodeId, this.#options.failoverHeartbeatTtlMs);
      count++;
    }
    this.#logger.info(
      { nodes: count, failoverTtlMs: this.#options.failoverHeartbeatTtlMs },
      'heartbeat timers started',
    );
  }

  /** Clears every timer on losing office; no `onExpired` call follows. */
  stop(): void {
    for (const handle of this.#pending.values()) this.#timers.clearTimeout(handle);
    const cleared = this.#pending.size;
    this.#pending.clear();
    this.#due.clear();
    if (this.#running) this.#logger.info({ cleared }, 'heartbeat timers stopped');
    this.#running = false;
  }

  /**
   * Records a heartbeat of `nodeId`: resets its timer to the returned TTL plus the grace. Returns
   * the TTL for the client, in ms. Throws RequestError 500 when this server is not running timers,
   * so that the caller retries on the leader.
   */
  heartbeat(nodeId: string): number {
    if (!this.#running) {
      // Worded as Nomad's "No cluster leader", which clients retry: a new leader starts its timers
      // a moment after taking office.
      throw new RequestError(500, 'No cluster leader: heartbeat timers are not running on this server yet');
    }
    const ttl = this.ttl();
    this.#arm(nodeId, ttl + this.#options.heartbeatGraceMs);
    return ttl;
  }

  /** Removes the timer of `nodeId`, for a node that went down or left. */
  clear(nodeId: string): void {
    const handle = this.#pending.get(nodeId);
    if (handle === undefined) return;
    this.#timers.clearTimeout(handle);
    this.#pending.delete(nodeId);
    this.#due.delete(nodeId);
  }

  /**
   * Returns a TTL to hand out: the minimum TTL, or longer when there are so many nodes that they
   * would otherwise heartbeat more than maxHeartbeatsPerSecond, plus a random stagger of up to the
   * same again, so that nodes registered together do not heartbeat together.
   */
  ttl(): number {
    const { minHeartbeatTtlMs, maxHeartbeatsPerSecond } = this.#options;
    const base = Math.max(minHeartbeatTtlMs, (this.#pending.size / maxHeartbeatsPerSecond) * 1000);
    return Math.round(base + this.#random() * base);
  }

  #arm(nodeId: string, ms: number): void {
    const previous = this.#pending.get(nodeId);
    if (previous !== undefined) this.#timers.clearTimeout(previous);
    const handle = this.#timers.setTimeout(() => this.#expire(nodeId, handle), ms);
    this.#pending.set(nodeId, handle);
    this.#due.set(nodeId, this.#now() + ms);
  }

  #expire(nodeId: string, handle: unknown): void {
    // A timer that a reset replaced may still fire with some timer implementations; ignore it.
    if (this.#pending.get(nodeId) !== handle) return;
    // A timer that fires well after it was due means this server was stalled (paused, swapped or
    // starved), and heartbeats that reached it meanwhile were never handled: the silence may be
    // its own. The node gets the failover TTL, as after an election, instead of going down.
    const lateMs = this.#now() - (this.#due.get(nodeId) ?? this.#now());
    if (lateMs > Math.max(STALL_TOLERANCE_MS, this.#options.heartbeatGraceMs / 2)) {
      this.#logger.warn(
        { nodeId, lateMs: Math.round(lateMs) },
        'heartbeat timer fired late because this server stalled: the node gets the failover TTL instead of going down',
      );
      this.#arm(nodeId, this.#options.failoverHeartbeatTtlMs);
      return;
    }
    this.#pending.delete(nodeId);
    this.#due.delete(nodeId);
    this.#logger.warn({ nodeId }, 'node missed its heartbeat');
    try {
      Promise.resolve(this.#onExpired(nodeId)).catch((err: unknown) =>
        this.#logger.error({ err, nodeId }, 'handling a missed heartbeat failed'),
      );
    } catch (err) {
      this.#logger.error({ err, nodeId }, 'handling a missed heartbeat failed');
    }
  }
}
