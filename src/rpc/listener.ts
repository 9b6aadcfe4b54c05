import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { CLIENT_RPC_PATH } from './client-frames.js';
import { SERVER_RPC_PATH } from './connection.js';
import type { RepeatLimiter } from './repeat-limiter.js';

export interface ListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxFrameBytes: number;
  /** Also the time allowed for a client to send its HTTP upgrade request. */
  readonly handshakeTimeoutMs: number;
  readonly closeTimeoutMs: number;
  /** Accepted sockets that have not authenticated yet, beyond which upgrades get 503. */
  readonly maxPendingHandshakes: number;
  readonly logger: Logger;
  readonly limiter: RepeatLimiter;
  /**
   * Takes over an accepted websocket. `authenticated` must be called once the peer passed the
   * handshake; until then, or until the socket closes, the connection counts as pending.
   */
  onConnection(ws: WebSocket, socket: Socket, remoteAddress: string, authenticated: () => void): void;
  /**
   * Client agents' connections on CLIENT_RPC_PATH, counted in the same pending limit until
   * `accepted` is called (on their first valid request). Without it that path gets 404.
   */
  readonly client?: ClientListenerOptions;
}

export interface ClientListenerOptions {
  readonly maxFrameBytes: number;
  onConnection(ws: WebSocket, remoteAddress: string, accepted: () => void): void;
}

/**
 * The HTTP server on the RPC port. It upgrades requests for the server path, and for the client
 * path when client options are given, to websockets, up to maxPendingHandshakes unauthenticated
 * ones at a time, and responds to everything else with an HTTP error. The upgrade is handled here rather than by ws's own path option so that the pending count
 * is taken before ws accepts the socket.
 */
export class RpcListener {
  readonly port: number;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  /** Upgrades client connections, with the client frame limit; null without client options. */
  readonly #clientWss: WebSocketServer | null;
  readonly #options: ListenerOptions;
  #pendingHandshakes = 0;
  #closing = false;

  static async open(options: ListenerOptions): Promise<RpcListener> {
    const server = createServer({
      headersTimeout: options.handshakeTimeoutMs,
      requestTimeout: options.handshakeTimeoutMs,
    });
    server.listen(options.port, options.host);
    await once(server, 'listening');
    return new RpcListener(server, options);
  }

  private constructor(server: Server, options: ListenerOptions) {
    this.#server = server;
    this.#options = options;
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : options.port;
    // closeTimeout is a ws 8.23.1 server option that @types/ws 8.18.2 does not declare.
    const wsOptions: WebSocket.ServerOptions & { closeTimeout: number } = {
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: options.maxFrameBytes,
      closeTimeout: options.closeTimeoutMs,
    };
    this.#wss = new WebSocketServer(wsOptions);
    this.#clientWss =
      options.client === undefined
        ? null
        : new WebSocketServer({ ...wsOptions, maxPayload: options.client.maxFrameBytes });
    server.on('request', (_request: IncomingMessage, response: ServerResponse) => {
      response.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      response.end(`this port takes websocket connections from Signet servers on ${SERVER_RPC_PATH}\n`);
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(request, socket as Socket, head),
    );
    server.on('clientError', (error: Error, socket: Duplex) => {
      options.logger.debug({ err: error }, 'malformed HTTP request on the RPC port');
      socket.destroy();
    });
  }

  /** Stops accepting; resolves once every socket the HTTP server accepted has closed. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#wss.close();
    this.#clientWss?.close();
    const closed = once(this.#server, 'close');
    this.#server.close();
    this.#server.closeAllConnections();
    await closed;
  }

  #onUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', (error) =>
      this.#options.logger.debug({ err: error, remoteAddress }, 'RPC socket error'),
    );
    if (this.#closing) {
      rejectUpgrade(socket, 503);
      return;
    }

    const path = (request.url ?? '').split('?')[0];
    const client = path === CLIENT_RPC_PATH ? this.#options.client : undefined;
    if (path !== SERVER_RPC_PATH && client === undefined) {
      this.#options.logger.debug({ remoteAddress, path }, 'rejected websocket upgrade for an unknown path');
      rejectUpgrade(socket, 404);
      return;
    }

    if (this.#pendingHandshakes >= this.#options.maxPendingHandshakes) {
      const suppressed = this.#options.limiter.admit(`${socket.remoteAddress} pending-limit`);
      const fields = {
        remoteAddress,
        reason: 'too-many-pending-handshakes',
        limit: this.#options.maxPendingHandshakes,
        repeatsSuppressed: suppressed || undefined,
      };
      const message = client === undefined ? 'rejected server connection' : 'rejected client connection';
      if (suppressed === null) this.#options.logger.debug(fields, message);
      else this.#options.logger.warn(fields, message);
      rejectUpgrade(socket, 503);
      return;
    }

    this.#pendingHandshakes++;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.#pendingHandshakes--;
    };
    // ws responds to a malformed upgrade itself and never calls back, so the close releases the slot.
    socket.once('close', release);
    if (client !== undefined && this.#clientWss !== null) {
      this.#clientWss.handleUpgrade(request, socket, head, (ws) =>
        client.onConnection(ws, remoteAddress, release),
      );
      return;
    }
    this.#wss.handleUpgrade(request, socket, head, (ws) =>
      this.#options.onConnection(ws, socket, remoteAddress, release),
    );
  }
}

function rejectUpgrade(socket: Socket, status: number): void {
  const text = STATUS_CODES[status] ?? 'Error';
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.once('finish', () => socket.destroy());
}
