import type { Logger } from 'pino';
import WebSocket from 'ws';
import { CLIENT_RPC_PATH, type ClientResponseFrame, parseClientResponse } from '../rpc/client-frames.js';
import { decodeFrame, encodeFrame } from '../rpc/frames.js';
import { ClientRpcError, LinkFailure } from './client-rpc-error.js';

export interface ServerLinkOptions {
  readonly maxFrameBytes: number;
  /** Time allowed for the websocket upgrade, in ms. */
  readonly connectTimeoutMs: number;
  /** Ping interval; a server silent for a whole interval is disconnected, in ms. */
  readonly pingIntervalMs: number;
  readonly logger: Logger;
}

interface PendingCall {
  resolve(response: ClientResponseFrame): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  dispose(): void;
}

/** How long ws waits for the server's close frame before it destroys the socket, in ms. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * One client websocket to one server. Requests are multiplexed on it by id. Every way it can fail
 * (no connection, a close, a silent or misbehaving server, a response too late) rejects with a
 * LinkFailure, after which the caller tries another server.
 */
export class ServerLink {
  readonly address: string;
  /** Resolves once the websocket is open; rejects with a LinkFailure when it cannot be opened. */
  readonly opened: Promise<void>;
  readonly #ws: WebSocket;
  readonly #options: ServerLinkOptions;
  readonly #pending = new Map<number, PendingCall>();
  readonly #pingTimer: NodeJS.Timeout;
  #nextId = 1;
  #alive = true;
  #closed = false;

  constructor(address: string, options: ServerLinkOptions) {
    this.address = address;
    this.#options = options;
    // closeTimeout is a ws 8.23.1 client option that @types/ws 8.18.2 does not declare.
    const wsOptions: WebSocket.ClientOptions & { closeTimeout: number } = {
      perMessageDeflate: false,
      maxPayload: options.maxFrameBytes,
      handshakeTimeout: options.connectTimeoutMs,
      closeTimeout: CLOSE_TIMEOUT_MS,
    };
    this.#ws = new WebSocket(`ws://${address}${CLIENT_RPC_PATH}`, wsOptions);
    this.opened = new Promise<void>((resolve, reject) => {
      this.#ws.once('open', () => resolve());
      this.#ws.once('close', () => reject(new LinkFailure(address, `cannot connect to server ${address}`)));
    });
    // Callers that await `opened` handle the rejection. This handler keeps an unawaited one quiet.
    this.opened.catch(() => {});
    this.#ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    this.#ws.on('close', (code) => this.#fail(`server ${address} closed the connection (code ${code})`));
    this.#ws.on('error', (error) => this.#fail(`connection to server ${address} failed: ${error.message}`));
    this.#ws.on('pong', () => {
      this.#alive = true;
    });
    this.#pingTimer = setInterval(() => this.#ping(), options.pingIntervalMs);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a request and resolves with the server's response frame. Rejects with a LinkFailure when
   * the link fails or no response arrives within timeoutMs, with ClientRpcError ABORTED when
   * `signal` aborts, and with ClientRpcError INVALID when the request encodes above the frame limit.
   */
  async request(
    method: string,
    body: Record<string, unknown>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<ClientResponseFrame> {
    await this.opened;
    if (this.#closed) throw new LinkFailure(this.address, `connection to server ${this.address} is closed`);
    if (signal?.aborted === true)
      throw new ClientRpcError('ABORTED', `${method} was aborted`, 0, this.address);
    const id = this.#nextId++;
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ kind: 'request', id, method, body }, this.#options.maxFrameBytes);
    } catch (error) {
      throw new ClientRpcError('INVALID', `cannot send ${method}: ${(error as Error).message}`);
    }
    return new Promise<ClientResponseFrame>((resolve, reject) => {
      const onAbort = (): void => {
        this.#settle(id)?.reject(new ClientRpcError('ABORTED', `${method} was aborted`, 0, this.address));
      };
      const timer = setTimeout(() => {
        this.#settle(id)?.reject(
          new LinkFailure(
            this.address,
            `${method} to server ${this.address} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve,
        reject,
        timer,
        dispose: () => signal?.removeEventListener('abort', onAbort),
      });
      this.#ws.send(bytes);
    });
  }

  /** Closes the link; calls still waiting on it fail with a LinkFailure. */
  close(reason = 'closed by the client'): void {
    this.#fail(reason);
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#closed) return;
    this.#alive = true;
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    const decoded = isBinary ? decodeFrame(bytes, this.#options.maxFrameBytes) : null;
    const response =
      decoded === null
        ? 'received a text message'
        : decoded.ok
          ? parseClientResponse(decoded.frame)
          : decoded.reason;
    if (typeof response === 'string') {
      this.#options.logger.warn(
        { server: this.address, reason: response },
        'closing connection to a server that sent a malformed frame',
      );
      this.#fail(`server ${this.address} sent a malformed frame: ${response}`);
      return;
    }
    this.#settle(response.id)?.resolve(response);
  }

  #settle(id: number): PendingCall | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.dispose();
    return pending;
  }

  #ping(): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) return;
    if (!this.#alive) {
      this.#fail(
        `server ${this.address} sent nothing, not even a pong, for ${this.#options.pingIntervalMs} ms`,
      );
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#pingTimer);
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id)?.reject(new LinkFailure(this.address, reason));
    }
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000);
    else this.#ws.terminate();
    this.#options.logger.debug({ server: this.address, reason }, 'client connection to server closed');
  }
}
