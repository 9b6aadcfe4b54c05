import type { Logger } from 'pino';
import { redialDelayMs } from './backoff.js';
import type { CloseReason, ServerConnection } from './connection.js';

/**
 * - dialing: a connection is being set up (dial, handshake, introductions);
 * - connected: the connection is open and registered under the peer's id;
 * - waiting: the last attempt failed or the connection dropped, and a redial is scheduled;
 * - self: the address leads to this server, so the link stopped dialing;
 * - duplicate: the address leads to a server already linked through another address, so the link
 *   stopped dialing;
 * - stopped: forget() or close() ended the link.
 */
export type LinkState = 'dialing' | 'connected' | 'waiting' | 'self' | 'duplicate' | 'stopped';

/**
 * Keeps one outbound connection to an address. It dials, and after every failure or drop it
 * redials with exponential backoff and full jitter. It stops on stop(), or when the address turns
 * out to lead to this server itself or to a server already linked through another address.
 *
 * Logging: a connection and its loss are logged at info. So is the first failed attempt after a
 * success; further failures go to debug, because a server that is down would otherwise log one
 * line per redial.
 */
export class OutboundLink {
  readonly address: string;
  readonly #dial: (link: OutboundLink) => ServerConnection;
  readonly #logger: Logger;
  #state: LinkState = 'waiting';
  #connection: ServerConnection | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Attempts that failed since the last connection that reached the connected state. */
  #failures = 0;
  #peerId = 0;

  constructor(address: string, dial: (link: OutboundLink) => ServerConnection, logger: Logger) {
    this.address = address;
    this.#dial = dial;
    this.#logger = logger;
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Node id that this address led to last, or 0 before the first handshake. */
  get peerId(): number {
    return this.#peerId;
  }

  /** The connection being set up or open, or null while waiting or stopped. */
  get connection(): ServerConnection | null {
    return this.#connection;
  }

  start(): void {
    if (this.#state === 'waiting' && this.#timer === null) this.#dialNow();
  }

  /** Records that `connection`, this link's current one, finished its handshake and introductions. */
  established(connection: ServerConnection): void {
    if (connection !== this.#connection) return;
    this.#state = 'connected';
    this.#peerId = connection.peerId;
    this.#failures = 0;
    this.#logger.info({ address: this.address, peerId: this.#peerId }, 'connected to server');
  }

  /** Records that `connection` closed, and schedules a redial unless the reason ends the link. */
  closed(connection: ServerConnection, reason: CloseReason, detail: string): void {
    if (connection !== this.#connection) return;
    this.#connection = null;
    if (this.#state === 'stopped') return;
    if (connection.peerId !== 0) this.#peerId = connection.peerId;

    if (reason === 'self-connection') {
      this.#state = 'self';
      this.#logger.info(
        { address: this.address, peerId: this.#peerId },
        'server address leads to this server itself; stopped dialing it',
      );
      return;
    }
    if (reason === 'duplicate-link') {
      this.#state = 'duplicate';
      return;
    }

    const fields = { address: this.address, peerId: this.#peerId || undefined, reason, detail };
    if (this.#state === 'connected') this.#logger.info(fields, 'lost connection to server; redialing');
    else if (this.#failures === 0)
      this.#logger.info(fields, 'cannot connect to server; retrying with backoff');
    else this.#logger.debug({ ...fields, failures: this.#failures }, 'cannot connect to server; retrying');

    const delayMs = redialDelayMs(this.#failures);
    this.#failures++;
    this.#state = 'waiting';
    this.#timer = setTimeout(() => this.#dialNow(), delayMs);
  }

  /** Ends the link: cancels any redial and closes its connection with `reason`. */
  stop(reason: 'forgotten' | 'shutdown'): void {
    this.#state = 'stopped';
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#connection?.close(reason);
    this.#connection = null;
  }

  #dialNow(): void {
    this.#timer = null;
    if (this.#state === 'stopped') return;
    this.#state = 'dialing';
    try {
      this.#connection = this.#dial(this);
    } catch (error) {
      // connect() checked the address, so this is a bug; retrying would only repeat it.
      this.#state = 'stopped';
      this.#logger.error({ err: error, address: this.address }, 'cannot dial server; stopped dialing it');
    }
  }
}
