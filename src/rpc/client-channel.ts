import type { Logger } from 'pino';
import WebSocket from 'ws';
import { type ClientRequestFrame, type ClientRpcFailure, parseClientRequest } from './client-frames.js';
import { decodeFrame, encodeFrame } from './frames.js';
import type { RepeatLimiter } from './repeat-limiter.js';

/** Request facts that a handler gets besides the method and body. */
export interface ClientRequestContext {
  /** host:port of the client agent's socket. */
  readonly remoteAddress: string;
  /** Aborts when the connection closes, so a blocking query stops waiting for a client that left. */
  readonly signal: AbortSignal;
}

/**
 * Serves one client request, and its result becomes the response body. A rejection with an error
 * that has a numeric `status` and a string `message` (RequestError) is sent to the client as is.
 * Any other rejection is a server bug, so it is sent as a 500 and logged at error.
 */
export type ClientRequestHandler = (
  method: string,
  body: Readonly<Record<string, unknown>>,
  context: ClientRequestContext,
) => Promise<unknown>;

/**
 * Why a client connection closed. The reasons from first-frame-timeout to heartbeat-timeout mean
 * that the client broke the protocol or went silent, so they are logged at warn, with repeats
 * counted. internal-error is a bug on this side and is logged at error. The rest are normal.
 */
export type ClientCloseReason =
  | 'first-frame-timeout'
  | 'malformed-frame'
  | 'frame-too-large'
  | 'text-frame'
  | 'protocol-error'
  | 'heartbeat-timeout'
  | 'internal-error'
  | 'peer-closed'
  | 'socket-error'
  | 'shutdown';

// Close codes from RFC 6455 section 7.4.1.
const CLOSE_CODES: Record<ClientCloseReason, number> = {
  'first-frame-timeout': 1008,
  'malformed-frame': 1002,
  'frame-too-large': 1009,
  'text-frame': 1003,
  'protocol-error': 1002,
  'heartbeat-timeout': 1001,
  'internal-error': 1011,
  'peer-closed': 1000,
  'socket-error': 1000,
  shutdown: 1001,
};

const PROTOCOL_VIOLATIONS: ReadonlySet<ClientCloseReason> = new Set([
  'first-frame-timeout',
  'malformed-frame',
  'frame-too-large',
  'text-frame',
  'protocol-error',
  'heartbeat-timeout',
]);

/** Maximum length of an error message sent to a client, in characters. */
const MAX_ERROR_MESSAGE_CHARS = 4096;

/** Settings and callbacks that a channel gets from the transport that owns it. */
export interface ClientChannelHost {
  readonly maxFrameBytes: number;
  /** Time from the upgrade to the first valid request, after which the connection is closed, in ms. */
  readonly firstFrameTimeoutMs: number;
  /** Requests of one connection served at once; more get a 429 response. */
  readonly maxInFlight: number;
  readonly logger: Logger;
  readonly limiter: RepeatLimiter;
  readonly handle: ClientRequestHandler;
  /** Called once, when the channel stops being usable. */
  closed(channel: ClientChannel, reason: ClientCloseReason, detail: string): void;
}

/**
 * The server's side of one client agent's websocket: request frames in, response frames out, each
 * paired by id. Requests are served concurrently, so a blocking query does not hold up the
 * heartbeats behind it. No event handler throws: a frame that breaks the protocol closes the
 * connection with a logged reason, and a failing handler becomes an error response.
 */
export class ClientChannel {
  readonly remoteAddress: string;
  /** Resolves once the socket has closed. */
  readonly fullyClosed: Promise<void>;
  readonly #ws: WebSocket;
  readonly #host: ClientChannelHost;
  readonly #abort = new AbortController();
  #onFirstFrame: (() => void) | null;
  #firstFrameTimer: NodeJS.Timeout | null;
  #inFlight = 0;
  #alive = true;
  #closed = false;

  /**
   * Wraps a websocket that the listener accepted on the client path. `onFirstFrame` is called
   * once, when the first valid request arrives; until then the connection counts as pending.
   */
  static accept(
    ws: WebSocket,
    remoteAddress: string,
    host: ClientChannelHost,
    onFirstFrame: () => void,
  ): ClientChannel {
    return new ClientChannel(ws, remoteAddress, host, onFirstFrame);
  }

  private constructor(
    ws: WebSocket,
    remoteAddress: string,
    host: ClientChannelHost,
    onFirstFrame: () => void,
  ) {
    this.#ws = ws;
    this.remoteAddress = remoteAddress;
    this.#host = host;
    this.#onFirstFrame = onFirstFrame;
    this.#firstFrameTimer = setTimeout(
      () =>
        this.#guard(() =>
          this.#reject(
            'first-frame-timeout',
            `no valid request within ${host.firstFrameTimeoutMs} ms of the upgrade`,
          ),
        ),
      host.firstFrameTimeoutMs,
    );
    this.fullyClosed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.#guard(() => this.#onMessage(data, isBinary)));
    ws.on('close', (code, reason) => this.#guard(() => this.#onSocketClose(code, reason)));
    ws.on('error', (error) => this.#guard(() => this.#onSocketError(error)));
    ws.on('pong', () => {
      this.#alive = true;
    });
  }

  /** Requests being served right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Called on an interval by the transport. Closes the connection when nothing (no frame, no pong)
   * arrived since the previous call, then pings the client.
   */
  heartbeat(): void {
    if (this.#closed) return;
    if (!this.#alive) {
      this.#reject('heartbeat-timeout', 'no frame and no pong from the client since the previous ping');
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  /** Closes the connection and aborts the requests in flight; the first reason given is the one reported. */
  close(reason: ClientCloseReason, detail = ''): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearFirstFrameTimer();
    this.#abort.abort();
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(CLOSE_CODES[reason], reason);
    else if (this.#ws.readyState === WebSocket.CONNECTING) this.#ws.terminate();
    this.#host.closed(this, reason, detail);
  }

  /** Destroys the socket without waiting for the client's close frame. */
  terminate(): void {
    this.#ws.terminate();
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closed) return;
    this.#alive = true;
    if (!isBinary) {
      this.#reject('text-frame', 'received a text message; client connections carry binary frames only');
      return;
    }
    const decoded = decodeFrame(toBytes(data), this.#host.maxFrameBytes);
    if (!decoded.ok) {
      this.#reject('malformed-frame', decoded.reason);
      return;
    }
    const request = parseClientRequest(decoded.frame);
    if (typeof request === 'string') {
      this.#reject('malformed-frame', request);
      return;
    }
    if (this.#onFirstFrame !== null) {
      this.#clearFirstFrameTimer();
      this.#onFirstFrame();
      this.#onFirstFrame = null;
    }
    if (this.#inFlight >= this.#host.maxInFlight) {
      this.#sendError(request.id, {
        status: 429,
        message: `too many requests in flight on this connection (limit ${this.#host.maxInFlight}); retry after one completes`,
      });
      return;
    }
    this.#serve(request);
  }

  #serve(request: ClientRequestFrame): void {
    this.#inFlight++;
    let response: Promise<unknown>;
    try {
      response = Promise.resolve(
        this.#host.handle(request.method, request.body, {
          remoteAddress: this.remoteAddress,
          signal: this.#abort.signal,
        }),
      );
    } catch (error) {
      response = Promise.reject(error);
    }
    response
      .then(
        (body) => this.#guard(() => this.#sendBody(request, body)),
        (error: unknown) => this.#guard(() => this.#sendError(request.id, this.#failureOf(request, error))),
      )
      .finally(() => {
        this.#inFlight--;
      });
  }

  #failureOf(request: ClientRequestFrame, error: unknown): ClientRpcFailure {
    const candidate = error as { status?: unknown; message?: unknown } | null;
    if (typeof candidate?.status === 'number' && typeof candidate.message === 'string') {
      return { status: candidate.status, message: candidate.message };
    }
    this.#host.logger.error(
      { err: error, method: request.method, remoteAddress: this.remoteAddress },
      'client request handler failed',
    );
    return { status: 500, message: error instanceof Error ? error.message : String(error) };
  }

  #sendBody(request: ClientRequestFrame, body: unknown): void {
    if (this.#closed) return;
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ kind: 'response', id: request.id, ok: true, body }, this.#host.maxFrameBytes);
    } catch (error) {
      this.#host.logger.warn(
        { err: error, method: request.method, remoteAddress: this.remoteAddress },
        'client response too large to send',
      );
      this.#sendError(request.id, {
        status: 500,
        message: `the response to ${request.method} is above the client frame limit of ${this.#host.maxFrameBytes} bytes`,
      });
      return;
    }
    this.#ws.send(bytes);
  }

  #sendError(id: number, failure: ClientRpcFailure): void {
    if (this.#closed) return;
    const error = { status: failure.status, message: failure.message.slice(0, MAX_ERROR_MESSAGE_CHARS) };
    this.#ws.send(encodeFrame({ kind: 'response', id, ok: false, error }, this.#host.maxFrameBytes));
  }

  #onSocketClose(code: number, reason: Buffer): void {
    if (this.#closed) return;
    const reasonText = reason.toString('utf8').slice(0, 123);
    this.close(
      'peer-closed',
      `client closed the connection with code ${code}${reasonText ? ` (${reasonText})` : ''}`,
    );
  }

  #onSocketError(error: Error): void {
    if (this.#closed) return;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#reject('frame-too-large', error.message);
    else if (code.startsWith('WS_ERR_')) this.#reject('protocol-error', error.message);
    else this.close('socket-error', error.message);
  }

  /** Logs why the client's connection is being closed, at warn unless it repeats, then closes it. */
  #reject(reason: ClientCloseReason, detail: string): void {
    if (this.#closed) return;
    if (PROTOCOL_VIOLATIONS.has(reason)) {
      const host = this.remoteAddress.slice(0, this.remoteAddress.lastIndexOf(':'));
      const suppressed = this.#host.limiter.admit(`${host} client ${reason}`);
      const fields = {
        remoteAddress: this.remoteAddress,
        reason,
        detail,
        repeatsSuppressed: suppressed === null || suppressed === 0 ? undefined : suppressed,
      };
      if (suppressed === null) this.#host.logger.debug(fields, 'closing client connection');
      else this.#host.logger.warn(fields, 'closing client connection');
    }
    this.close(reason, detail);
  }

  #clearFirstFrameTimer(): void {
    if (this.#firstFrameTimer !== null) clearTimeout(this.#firstFrameTimer);
    this.#firstFrameTimer = null;
  }

  /** Runs an event handler; a throw there is a bug in this file, so it is logged and the connection closed. */
  #guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.#host.logger.error(
        { err: error, remoteAddress: this.remoteAddress },
        'client connection handler threw',
      );
      try {
        this.close('internal-error', 'event handler threw');
      } catch {
        this.#ws.terminate();
      }
    }
  }
}

function toBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
