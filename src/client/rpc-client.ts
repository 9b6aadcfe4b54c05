import type { Logger } from 'pino';
import { DEFAULT_CLIENT_MAX_FRAME_BYTES } from '../rpc/client-frames.js';
import { ClientRpcError, LinkFailure } from './client-rpc-error.js';
import { ServerLink } from './server-link.js';
import { ServerList } from './server-list.js';

export { ClientRpcError, type ClientRpcErrorCode } from './client-rpc-error.js';

export interface ClientRpcOptions {
  /** Server RPC addresses (host:port); the list is shuffled, and grows with the servers that responses name. */
  readonly servers: readonly string[];
  readonly logger: Logger;
  /**
   * How long a call keeps trying other servers after a connection failure, or the same one while
   * it has no leader, in ms. Default 5000, as Nomad's `rpc_hold_timeout`.
   */
  readonly holdTimeMs?: number;
  /** Maximum frame size, sent or accepted, in bytes. Default DEFAULT_CLIENT_MAX_FRAME_BYTES (4 MiB). */
  readonly maxFrameBytes?: number;
  /** Time allowed for the websocket upgrade to one server, in ms. Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Ping interval; a server silent for a whole interval is dropped, in ms. Default 5000. */
  readonly pingIntervalMs?: number;
  /** Time one attempt waits for its response, when the call names none, in ms. Default 10,000. */
  readonly defaultTimeoutMs?: number;
  /** Uniform in [0, 1): shuffles the servers and draws retry jitter. Default Math.random. */
  readonly random?: () => number;
}

export const CLIENT_RPC_DEFAULTS = Object.freeze({
  holdTimeMs: 5000,
  connectTimeoutMs: 2000,
  pingIntervalMs: 5000,
  defaultTimeoutMs: 10_000,
});

/** Retry pauses within the hold time: full jitter below a ceiling that doubles from 20 ms to 500 ms. */
const RETRY_BASE_MS = 20;
const RETRY_CAP_MS = 500;

/** Message of the server error that means the cluster has no leader right now, in Nomad's words. */
const NO_LEADER = 'No cluster leader';

export interface CallOptions {
  /**
   * Time one attempt waits for its response, in ms. A blocking query passes its MaxQueryTime plus
   * a margin. Default `defaultTimeoutMs`.
   */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * A client agent's RPC to the servers, with failover as Nomad's client does it. Each call goes to
 * the head of a shuffled server list. When the connection to that server fails, the server moves
 * to the back, and the call is retried on the next one after a short jittered pause until the hold
 * time has passed. Any server serves any call, because servers forward to the leader themselves.
 */
export class ClientRpc {
  readonly #options: Required<Omit<ClientRpcOptions, 'servers' | 'logger'>>;
  readonly #logger: Logger;
  readonly #servers: ServerList;
  #link: ServerLink | null = null;
  #closed = false;

  /** Throws when `servers` is empty or names an address that is not host:port. */
  constructor(options: ClientRpcOptions) {
    this.#logger = options.logger;
    this.#options = {
      holdTimeMs: options.holdTimeMs ?? CLIENT_RPC_DEFAULTS.holdTimeMs,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_CLIENT_MAX_FRAME_BYTES,
      connectTimeoutMs: options.connectTimeoutMs ?? CLIENT_RPC_DEFAULTS.connectTimeoutMs,
      pingIntervalMs: options.pingIntervalMs ?? CLIENT_RPC_DEFAULTS.pingIntervalMs,
      defaultTimeoutMs: options.defaultTimeoutMs ?? CLIENT_RPC_DEFAULTS.defaultTimeoutMs,
      random: options.random ?? Math.random,
    };
    this.#servers = new ServerList(options.servers, this.#options.random);
  }

  /** The server that the next call goes to. */
  get server(): string {
    return this.#servers.head();
  }

  /** Every known server, in the order calls try them. */
  servers(): string[] {
    return this.#servers.all();
  }

  /**
   * Calls `method` and resolves with the response body. A body with a `Servers` list teaches the
   * client more servers. Rejects with ClientRpcError: REMOTE for the server's error (its status and
   * message), UNAVAILABLE when no server answered within the hold time, ABORTED, CLOSED or INVALID.
   */
  async call<T = Record<string, unknown>>(
    method: string,
    body: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs;
    const deadline = performance.now() + this.#options.holdTimeMs;
    let attempt = 0;
    for (;;) {
      if (this.#closed) throw new ClientRpcError('CLOSED', `cannot call ${method}: the client RPC is closed`);
      if (options.signal?.aborted === true) throw new ClientRpcError('ABORTED', `${method} was aborted`);
      const link = this.#currentLink();
      let failure: string;
      try {
        const response = await link.request(method, body, timeoutMs, options.signal);
        if (response.ok) {
          const result = response.body as Record<string, unknown> | null;
          if (typeof result === 'object' && result !== null) this.#servers.learn(result.Servers);
          return result as T;
        }
        const { status, message } = response.error;
        if (status !== 500 || !message.includes(NO_LEADER)) {
          throw new ClientRpcError('REMOTE', message, status, link.address);
        }
        failure = message;
      } catch (error) {
        if (!(error instanceof LinkFailure)) throw error;
        failure = error.message;
        this.#dropFailed(link, failure);
      }
      if (performance.now() >= deadline) {
        throw new ClientRpcError(
          'UNAVAILABLE',
          `${method} failed on every server tried within ${this.#options.holdTimeMs} ms; last error: ${failure}`,
          0,
          link.address,
        );
      }
      await sleep(Math.floor(this.#options.random() * Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** attempt)));
      attempt = Math.min(attempt + 1, 10);
    }
  }

  /** Closes the connection; calls in flight fail, and later calls reject with CLOSED. */
  close(): void {
    this.#closed = true;
    this.#link?.close('client RPC closed');
    this.#link = null;
  }

  /** The open link to the head server, opened on demand; a link to a server no longer at the head is closed. */
  #currentLink(): ServerLink {
    const head = this.#servers.head();
    if (this.#link !== null && this.#link.address === head && !this.#link.isClosed) return this.#link;
    this.#link?.close(`server ${this.#link.address} is no longer first in the server list`);
    this.#link = new ServerLink(head, {
      maxFrameBytes: this.#options.maxFrameBytes,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      pingIntervalMs: this.#options.pingIntervalMs,
      logger: this.#logger,
    });
    return this.#link;
  }

  #dropFailed(link: ServerLink, reason: string): void {
    const wasHead = this.#servers.head() === link.address;
    this.#servers.notifyFailed(link.address);
    link.close(reason);
    if (wasHead && this.#servers.head() !== link.address) {
      this.#logger.info(
        { server: link.address, next: this.#servers.head(), reason },
        'client RPC moved to the next server',
      );
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
