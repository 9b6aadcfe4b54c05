import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Prng } from '../../../test/sim/prng.js';
import { DelayPipe } from './delay-proxy-pipe.js';

/** Peer of a DelayRule that matches every connection. */
export const ALL_PEERS = 'all';

/**
 * Delay for the connections whose remote address is `peer` (or every connection, with ALL_PEERS):
 * each chunk, in both directions, is held back `delayMs` plus a uniform jitter in ±`jitterMs`.
 */
export interface DelayRule {
  readonly peer: string;
  readonly delayMs: number;
  readonly jitterMs: number;
}

export interface DelayProxyOptions {
  /** Address and port the proxy listens on. With port 0 the OS picks a free one, which `port` returns. */
  readonly listenHost: string;
  readonly listenPort: number;
  /** Address and port every accepted connection is forwarded to. */
  readonly targetHost: string;
  readonly targetPort: number;
  /** Draws the jitter. */
  readonly random: Prng;
}

/**
 * A TCP proxy that forwards each accepted connection to one target and can hold the bytes back for
 * a while. The rules apply to each chunk as it arrives, so a changed rule acts on open connections
 * too. A connection matching no rule is forwarded without delay. Each side's end is passed on in
 * order after the bytes before it, and an error on either side closes both at once.
 */
export class DelayProxy {
  readonly #options: DelayProxyOptions;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #rules: readonly DelayRule[] = [];

  private constructor(options: DelayProxyOptions) {
    this.#options = options;
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#forward(socket));
  }

  /** Starts a proxy and resolves once it listens. */
  static async start(options: DelayProxyOptions): Promise<DelayProxy> {
    const proxy = new DelayProxy(options);
    proxy.#server.listen({ host: options.listenHost, port: options.listenPort, exclusive: true });
    await once(proxy.#server, 'listening');
    return proxy;
  }

  /** The port the proxy listens on. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the delay proxy is not listening');
    return address.port;
  }

  /** Replaces every rule. A later rule for the same peer wins; a rule for a peer wins over ALL_PEERS. */
  setRules(rules: readonly DelayRule[]): void {
    for (const rule of rules) validateRule(rule);
    this.#rules = [...rules];
  }

  /** Stops listening and closes every open connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #forward(client: Socket): void {
    const peer = client.remoteAddress ?? '';
    const upstream = connect({
      host: this.#options.targetHost,
      port: this.#options.targetPort,
      allowHalfOpen: true,
    });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.setNoDelay(true);
      // A clean close means both directions of this socket ended, and the pipes pass each end on
      // after the bytes they still hold. After an error (a reset, a refused connect) the other
      // side is reset too, as it would be without the proxy.
      socket.once('close', (hadError) => {
        this.#sockets.delete(socket);
        if (!hadError) return;
        client.destroy();
        upstream.destroy();
      });
      socket.on('error', () => undefined);
    }
    const delayFor = () => this.#delayMs(peer);
    new DelayPipe(client, upstream, delayFor);
    new DelayPipe(upstream, client, delayFor);
  }

  #delayMs(peer: string): number {
    let rule: DelayRule | undefined;
    for (const candidate of this.#rules) {
      if (candidate.peer === peer) rule = candidate;
      else if (candidate.peer === ALL_PEERS && (rule === undefined || rule.peer === ALL_PEERS))
        rule = candidate;
    }
    if (rule === undefined || (rule.delayMs === 0 && rule.jitterMs === 0)) return 0;
    const jitter = (this.#options.random.float() * 2 - 1) * rule.jitterMs;
    return Math.max(0, rule.delayMs + jitter);
  }
}

/** Raises when `rule` has no peer or a delay or jitter that is not a finite, non-negative number. */
export function validateRule(rule: DelayRule): void {
  if (typeof rule.peer !== 'string' || rule.peer === '')
    throw new Error(
      `invalid delay rule peer ${JSON.stringify(rule.peer)}: expected an address or "${ALL_PEERS}"`,
    );
  for (const field of ['delayMs', 'jitterMs'] as const) {
    const value = rule[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new Error(
        `invalid ${field} ${JSON.stringify(value)} for peer ${rule.peer}: expected a number >= 0`,
      );
  }
}
