import type { Logger } from 'pino';
import { redialDelayMs } from '../rpc/backoff.js';
import type { Node } from '../structs/node.js';
import { abortableSleep } from './abortable-sleep.js';
import { ClientRpcError } from './client-rpc-error.js';
import type { ClientRpc } from './rpc-client.js';

/** The node as Node.Register takes it. */
export type NodeRegistration = Pick<
  Node,
  'ID' | 'SecretID' | 'Name' | 'Datacenter' | 'NodeClass' | 'NodeResources' | 'Drivers' | 'Attributes'
>;

export interface NodeRegistrationOptions {
  readonly rpc: ClientRpc;
  readonly node: NodeRegistration;
  /** The agent's logger, which already carries the node ID. */
  readonly logger: Logger;
  /** Maximum pause between attempts to register, in ms. Default 15,000, Nomad's register retry interval. */
  readonly registerRetryCapMs?: number;
  /** Maximum pause between attempts of a failed heartbeat, in ms. Default 2000, well inside the servers' 10 s grace. */
  readonly heartbeatRetryCapMs?: number;
}

/** First pause after a failed register or heartbeat, in ms; it doubles with each failure up to the cap. */
const RETRY_BASE_MS = 250;

/**
 * Keeps the node registered and alive, as Nomad's client does: Node.Register until it succeeds,
 * then Node.UpdateStatus (status ready) each time the TTL that the servers returned runs out. A
 * server that returns 404 has no record of the node (its state was lost or the node was
 * collected), so the node registers again; the ID and secret stay the same, so its allocations stay
 * its own.
 */
export class NodeRegistrar {
  readonly #options: NodeRegistrationOptions;
  readonly #abort = new AbortController();
  #registering: Promise<void> | null = null;
  #registeredOnce = false;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #heartbeatFailures = 0;
  #closed = false;
  /** TTL from the last register or heartbeat, in ms. */
  ttlMs = 0;
  /** Heartbeats the servers accepted. */
  heartbeats = 0;

  constructor(options: NodeRegistrationOptions) {
    this.#options = options;
  }

  /**
   * Registers the node, retrying with a growing pause until the servers accept it or the
   * registrar closes, and then heartbeats. Concurrent calls share one attempt.
   */
  register(): Promise<void> {
    this.#registering ??= this.#registerUntilDone().finally(() => {
      this.#registering = null;
    });
    return this.#registering;
  }

  /**
   * Resolves once the node is registered: at once when it is, or when the attempt in progress
   * succeeds (or the registrar closes).
   */
  registered(): Promise<void> {
    if (this.#registering !== null) return this.#registering;
    return this.#registeredOnce ? Promise.resolve() : this.register();
  }

  /** Stops heartbeating; the servers mark the node down once its TTL and grace pass. */
  close(): void {
    this.#closed = true;
    this.#abort.abort();
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  async #registerUntilDone(): Promise<void> {
    const { rpc, node, logger } = this.#options;
    const capMs = this.#options.registerRetryCapMs ?? 15_000;
    for (let failures = 0; !this.#closed; ) {
      try {
        const response = await rpc.call<{ HeartbeatTTL: number; Index: number }>(
          'Node.Register',
          { Node: node },
          { signal: this.#abort.signal },
        );
        this.ttlMs = response.HeartbeatTTL;
        this.#registeredOnce = true;
        logger.info({ server: rpc.server, ttlMs: this.ttlMs, index: response.Index }, 'node registered');
        this.#scheduleHeartbeat(this.ttlMs);
        return;
      } catch (err) {
        if (this.#closed) return;
        failures++;
        const level = failures === 1 ? 'warn' : 'debug';
        logger[level]({ err, failures }, 'failed to register the node; will retry');
        await abortableSleep(
          RETRY_BASE_MS + redialDelayMs(failures, Math.random, RETRY_BASE_MS, capMs),
          this.#abort.signal,
        );
      }
    }
  }

  #scheduleHeartbeat(delayMs: number): void {
    if (this.#closed) return;
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = setTimeout(() => {
      this.#heartbeatTimer = null;
      void this.#heartbeat();
    }, delayMs);
  }

  async #heartbeat(): Promise<void> {
    const { rpc, node, logger } = this.#options;
    try {
      const response = await rpc.call<{ HeartbeatTTL: number }>(
        'Node.UpdateStatus',
        { NodeID: node.ID, SecretID: node.SecretID, Status: 'ready' },
        { signal: this.#abort.signal },
      );
      if (this.#heartbeatFailures > 0) {
        logger.info({ failures: this.#heartbeatFailures }, 'heartbeats accepted again');
      }
      this.#heartbeatFailures = 0;
      this.ttlMs = response.HeartbeatTTL;
      this.heartbeats++;
      this.#scheduleHeartbeat(this.ttlMs);
    } catch (err) {
      if (this.#closed) return;
      if (err instanceof ClientRpcError && err.code === 'REMOTE' && err.status === 404) {
        logger.warn({ server: err.server }, 'the servers do not know this node; registering again');
        await this.register();
        return;
      }
      this.#heartbeatFailures++;
      const level = this.#heartbeatFailures === 1 ? 'warn' : 'debug';
      logger[level]({ err, failures: this.#heartbeatFailures }, 'heartbeat failed; will retry');
      const capMs = this.#options.heartbeatRetryCapMs ?? 2000;
      this.#scheduleHeartbeat(
        RETRY_BASE_MS + redialDelayMs(this.#heartbeatFailures, Math.random, RETRY_BASE_MS, capMs),
      );
    }
  }
}
