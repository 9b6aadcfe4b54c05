import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { ClientChannel, type ClientChannelHost, type ClientRequestHandler } from './client-channel.js';
import { DEFAULT_CLIENT_MAX_FRAME_BYTES } from './client-frames.js';
import { type CloseReason, type ConnectionHost, ServerConnection } from './connection.js';
import type { Frame, Introduction } from './envelope.js';
import { DEFAULT_MAX_FRAME_BYTES } from './frames.js';
import { handshakeKey } from './handshake.js';
import { type LinkState, OutboundLink } from './link.js';
import { RpcListener } from './listener.js';
import { RepeatLimiter } from './repeat-limiter.js';
import { TransportError } from './transport-error.js';

export type { ClientRequestContext, ClientRequestHandler } from './client-channel.js';
export type { Frame, Introduction } from './envelope.js';
export type { LinkState } from './link.js';
export { TransportError, type TransportErrorCode } from './transport-error.js';

export interface TransportOptions {
  nodeId: number;
  /** Decoded server.encrypt (32 bytes). */
  clusterKey: Buffer;
  /** Listen address; port 0 picks any free port. */
  host: string;
  port: number;
  /** Largest frame sent or accepted, in bytes. Default DEFAULT_MAX_FRAME_BYTES (8 MiB). */
  maxFrameBytes?: number;
  /** Send buffer of one socket above which one-way frames are dropped, in bytes. Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Time allowed from connect or accept to the end of the introductions, in ms. Default 5000. */
  handshakeTimeoutMs?: number;
  /** Ping interval; a peer silent for a whole interval is disconnected, in ms. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Accepted connections not yet authenticated, beyond which new ones are refused. Default 64. */
  maxPendingHandshakes?: number;
  logger: Logger;
  /** Called for every new connection, in both directions; the result goes to the peer. */
  introduction(): Introduction;
  /** A peer introduced itself, once per connection. */
  onIntroduction(peerId: number, intro: Introduction): void;
  /** An authenticated one-way frame arrived. */
  onFrame(from: number, frame: Frame): void;
  /** An authenticated request arrived; its result is sent back as the response. */
  onRequest(from: number, frame: Frame): Promise<Frame>;
  /**
   * Serves client agents' requests on `/v1/rpc/client`. Without it, that path gets 404. Client
   * connections have no cluster key handshake: the handler authenticates each request itself.
   */
  onClientRequest?: ClientRequestHandler;
  /** Maximum client frame size, sent or accepted, in bytes. Default DEFAULT_CLIENT_MAX_FRAME_BYTES (4 MiB). */
  maxClientFrameBytes?: number;
  /** Requests one client connection may have in flight; more get a 429 response. Default 64. */
  maxClientRequestsInFlight?: number;
}

/**
 * Defaults of the optional TransportOptions. A 4 MiB send buffer has room for several maximum appends
 * (1 MiB each by default), so a peer that is only slow gets everything while a stalled one cannot
 * grow memory without bound. 5 s for the handshake and the heartbeat is far beyond a loopback or
 * LAN round trip yet short enough to free a slot held by a silent client.
 */
export const TRANSPORT_DEFAULTS = {
  maxBufferedBytes: 4 * 1024 * 1024,
  handshakeTimeoutMs: 5000,
  heartbeatIntervalMs: 5000,
  maxPendingHandshakes: 64,
  maxClientRequestsInFlight: 64,
} as const;

/** How long close() waits for peers to complete the close handshake before it destroys the sockets. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * Server-to-server transport: a websocket listener on `/v1/rpc/server` and one outbound link per
 * address given to connect(). Every connection is authenticated by the cluster key handshake and
 * introduced before any frame reaches the application. Between two servers that dial each other
 * there are two connections; send() and request() prefer the outbound one and fall back to an
 * inbound one.
 */
export class RpcTransport {
  /** Port the listener is bound to (the actual one when options.port was 0). */
  readonly port: number;
  readonly #options: TransportOptions;
  readonly #logger: Logger;
  readonly #listener: RpcListener;
  readonly #host: ConnectionHost;
  readonly #links = new Map<string, OutboundLink>();
  /** Open outbound connections by peer id. Invariant: each one is its link's current connection. */
  readonly #outbound = new Map<number, ServerConnection>();
  /** Open inbound connections by peer id, oldest first. */
  readonly #inbound = new Map<number, Set<ServerConnection>>();
  /** Every connection whose socket has not fully closed yet, for close(). */
  readonly #live = new Set<ServerConnection>();
  /** Every client connection whose socket has not fully closed yet. */
  readonly #clients = new Set<ClientChannel>();
  /** Null when options.onClientRequest is absent. */
  readonly #clientHost: ClientChannelHost | null;
  readonly #heartbeatTimer: NodeJS.Timeout;
  #closing: Promise<void> | null = null;

  /** Binds the listener and returns the transport. Rejects when the address cannot be bound. */
  static async listen(options: TransportOptions): Promise<RpcTransport> {
    const limiter = new RepeatLimiter();
    const settings = resolveSettings(options);
    let transport: RpcTransport | null = null;
    const listener = await RpcListener.open({
      host: options.host,
      port: options.port,
      maxFrameBytes: settings.maxFrameBytes,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      closeTimeoutMs: CLOSE_TIMEOUT_MS,
      maxPendingHandshakes: settings.maxPendingHandshakes,
      logger: options.logger,
      limiter,
      // The listener exists before the transport, but no socket can arrive before this returns.
      onConnection: (ws, socket, remoteAddress, authenticated) =>
        transport!.#accept(ws, socket, remoteAddress, authenticated),
      client:
        options.onClientRequest === undefined
          ? undefined
          : {
              maxFrameBytes: settings.maxClientFrameBytes,
              onConnection: (ws, remoteAddress, accepted) =>
                transport!.#acceptClient(ws, remoteAddress, accepted),
            },
    });
    transport = new RpcTransport(options, settings, listener, limiter);
    options.logger.info(
      { nodeId: options.nodeId, host: options.host, port: listener.port },
      'RPC listener started',
    );
    return transport;
  }

  private constructor(
    options: TransportOptions,
    settings: Settings,
    listener: RpcListener,
    limiter: RepeatLimiter,
  ) {
    this.#options = options;
    this.#logger = options.logger;
    this.#listener = listener;
    this.port = listener.port;
    this.#host = {
      localId: options.nodeId,
      key: handshakeKey(options.clusterKey),
      maxFrameBytes: settings.maxFrameBytes,
      maxBufferedBytes: settings.maxBufferedBytes,
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      logger: options.logger,
      limiter,
      introduction: () => options.introduction(),
      established: (connection, introduction) => this.#established(connection, introduction),
      frame: (from, frame) => options.onFrame(from, frame),
      request: (from, frame) => options.onRequest(from, frame),
      closed: (connection, reason, detail) => this.#closed(connection, reason, detail),
    };
    const onClientRequest = options.onClientRequest;
    this.#clientHost =
      onClientRequest === undefined
        ? null
        : {
            maxFrameBytes: settings.maxClientFrameBytes,
            firstFrameTimeoutMs: settings.handshakeTimeoutMs,
            maxInFlight: settings.maxClientRequestsInFlight,
            logger: options.logger,
            limiter,
            handle: onClientRequest,
            closed: (channel, reason, detail) =>
              options.logger.debug(
                { remoteAddress: channel.remoteAddress, reason, detail },
                'client connection closed',
              ),
          };
    this.#heartbeatTimer = setInterval(() => {
      for (const connection of this.#live) connection.heartbeat();
      for (const channel of this.#clients) channel.heartbeat();
    }, settings.heartbeatIntervalMs);
  }

  /**
   * Keeps a link to `address` (host:port): dials it, and redials with backoff and jitter after
   * every failure until forget() or close(). Does nothing when a link to that address exists.
   * A link that leads to this server itself, or to a server already linked through another
   * address, stops dialing. Throws when the address is not host:port.
   */
  connect(address: string): void {
    checkAddress(address);
    if (this.#closing !== null || this.#links.has(address)) return;
    const link = new OutboundLink(address, () => this.#dial(address), this.#logger);
    this.#links.set(address, link);
    link.start();
  }

  /** Stops dialing `address` and closes its outbound connection. Inbound connections stay. */
  forget(address: string): void {
    const link = this.#links.get(address);
    if (link === undefined) return;
    this.#links.delete(address);
    link.stop('forgotten');
  }

  /**
   * Sends a one-way frame to server `to`. Returns false, dropping the frame, when there is no
   * open connection to it or its socket's send buffer is above maxBufferedBytes. Throws when the
   * frame encodes to more than maxFrameBytes.
   */
  send(to: number, frame: Frame): boolean {
    if (this.#closing !== null) return false;
    return this.#connectionTo(to)?.sendOneWay(frame) ?? false;
  }

  /**
   * Sends a request to server `to` and resolves with its response, which comes back on the same
   * connection. Rejects with a TransportError: NOT_CONNECTED, TIMEOUT after timeoutMs, CLOSED
   * when the connection or the transport closes first, REMOTE with the remote error's message.
   */
  request(to: number, frame: Frame, timeoutMs: number): Promise<Frame> {
    if (this.#closing !== null) {
      return Promise.reject(new TransportError('CLOSED', to, 'the RPC transport is closed'));
    }
    const connection = this.#connectionTo(to);
    if (connection === null) {
      return Promise.reject(
        new TransportError(
          'NOT_CONNECTED',
          to,
          `no open connection to server ${to} for a ${frame.kind} request`,
        ),
      );
    }
    return connection.request(frame, timeoutMs);
  }

  /** Ids of the servers with at least one open connection, in either direction, ascending. */
  connectedPeers(): number[] {
    const peers = new Set<number>(this.#outbound.keys());
    for (const [peerId, connections] of this.#inbound) if (connections.size > 0) peers.add(peerId);
    return [...peers].sort((a, b) => a - b);
  }

  /** Number of open client agent connections. */
  clientConnections(): number {
    return this.#clients.size;
  }

  /** State of every link that connect() created, for diagnostics and tests. */
  links(): { address: string; state: LinkState; peerId: number }[] {
    return [...this.#links.values()].map((link) => ({
      address: link.address,
      state: link.state,
      peerId: link.peerId,
    }));
  }

  /**
   * Closes the listener, every link and connection, and cancels every timer. Pending requests
   * fail with CLOSED. Resolves once every socket has closed, after at most about one second for
   * peers that do not complete the close handshake.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    clearInterval(this.#heartbeatTimer);
    for (const link of this.#links.values()) link.stop('shutdown');
    const listenerClosed = this.#listener.close();
    for (const connection of this.#live) connection.close('shutdown');
    for (const channel of this.#clients) channel.close('shutdown');

    let deadline: NodeJS.Timeout | null = null;
    const overdue = new Promise<void>((resolve) => {
      deadline = setTimeout(resolve, CLOSE_TIMEOUT_MS + 500);
    });
    const sockets = [...this.#live, ...this.#clients].map((connection) => connection.fullyClosed);
    await Promise.race([Promise.all(sockets), overdue]);
    if (deadline !== null) clearTimeout(deadline);
    for (const connection of this.#live) connection.terminate();
    for (const channel of this.#clients) channel.terminate();
    await listenerClosed;
    this.#logger.info({ nodeId: this.#options.nodeId }, 'RPC transport closed');
  }

  #dial(address: string): ServerConnection {
    const connection = ServerConnection.dial(address, this.#host);
    this.#track(connection);
    return connection;
  }

  #accept(ws: WebSocket, socket: Socket, remoteAddress: string, authenticated: () => void): void {
    if (this.#closing !== null) {
      ws.terminate();
      return;
    }
    this.#track(ServerConnection.accept(ws, socket, remoteAddress, this.#host, authenticated));
  }

  #acceptClient(ws: WebSocket, remoteAddress: string, accepted: () => void): void {
    if (this.#closing !== null || this.#clientHost === null) {
      ws.terminate();
      return;
    }
    // NOTE: only connections that have not sent a valid request yet are limited (the pending limit).
    // Established client connections are not capped, and anyone who reaches the port can open one.
    const channel = ClientChannel.accept(ws, remoteAddress, this.#clientHost, accepted);
    this.#clients.add(channel);
    void channel.fullyClosed.then(() => this.#clients.delete(channel));
  }

  #track(connection: ServerConnection): void {
    this.#live.add(connection);
    void connection.fullyClosed.then(() => this.#live.delete(connection));
  }

  #established(connection: ServerConnection, introduction: Introduction): boolean {
    const peerId = connection.peerId;
    if (this.#closing !== null) {
      connection.close('shutdown');
      return false;
    }
    if (connection.role === 'dialer') {
      const link = this.#links.get(connection.remoteAddress);
      if (link === undefined || link.connection !== connection) {
        connection.close('forgotten');
        return false;
      }
      // TODO: redial the address that lost when the linked one stops working; it stays stopped now.
      const linked = this.#outbound.get(peerId);
      if (linked !== undefined) {
        this.#logger.info(
          { address: connection.remoteAddress, peerId, linkedAddress: linked.remoteAddress },
          'server address leads to a server already linked through another address; stopped dialing it',
        );
        connection.close('duplicate-link');
        return false;
      }
      this.#outbound.set(peerId, connection);
      link.established(connection);
    } else {
      let connections = this.#inbound.get(peerId);
      if (connections === undefined) {
        connections = new Set();
        this.#inbound.set(peerId, connections);
      }
      connections.add(connection);
      this.#logger.debug({ peerId, remoteAddress: connection.remoteAddress }, 'accepted server connection');
    }

    try {
      this.#options.onIntroduction(peerId, introduction);
    } catch (error) {
      this.#logger.error({ err: error, peerId }, 'onIntroduction threw; the connection stays open');
    }
    return true;
  }

  #closed(connection: ServerConnection, reason: CloseReason, detail: string): void {
    const peerId = connection.peerId;
    if (this.#outbound.get(peerId) === connection) this.#outbound.delete(peerId);
    const inbound = this.#inbound.get(peerId);
    if (inbound?.delete(connection) === true) {
      if (inbound.size === 0) this.#inbound.delete(peerId);
      this.#logger.debug(
        { peerId, remoteAddress: connection.remoteAddress, reason, detail },
        'inbound server connection closed',
      );
    }
    if (connection.role === 'dialer')
      this.#links.get(connection.remoteAddress)?.closed(connection, reason, detail);
  }

  /** The outbound connection to `peerId` if open, else its newest open inbound one. */
  #connectionTo(peerId: number): ServerConnection | null {
    const outbound = this.#outbound.get(peerId);
    if (outbound?.isOpen === true) return outbound;
    let newest: ServerConnection | null = null;
    for (const connection of this.#inbound.get(peerId) ?? []) if (connection.isOpen) newest = connection;
    return newest;
  }
}

type Settings = Required<
  Pick<
    TransportOptions,
    | 'maxFrameBytes'
    | 'maxBufferedBytes'
    | 'handshakeTimeoutMs'
    | 'heartbeatIntervalMs'
    | 'maxPendingHandshakes'
    | 'maxClientFrameBytes'
    | 'maxClientRequestsInFlight'
  >
>;

function resolveSettings(options: TransportOptions): Settings {
  return {
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxBufferedBytes: options.maxBufferedBytes ?? TRANSPORT_DEFAULTS.maxBufferedBytes,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? TRANSPORT_DEFAULTS.handshakeTimeoutMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? TRANSPORT_DEFAULTS.heartbeatIntervalMs,
    maxPendingHandshakes: options.maxPendingHandshakes ?? TRANSPORT_DEFAULTS.maxPendingHandshakes,
    maxClientFrameBytes: options.maxClientFrameBytes ?? DEFAULT_CLIENT_MAX_FRAME_BYTES,
    maxClientRequestsInFlight:
      options.maxClientRequestsInFlight ?? TRANSPORT_DEFAULTS.maxClientRequestsInFlight,
  };
}

/** Throws unless `address` is host:port with a port from 1 to 65535 (IPv6 hosts in brackets). */
export function checkAddress(address: string): void {
  const colon = address.lastIndexOf(':');
  const portText = address.slice(colon + 1);
  const port = Number(portText);
  let valid = colon > 0 && /^[0-9]{1,5}$/.test(portText) && port >= 1 && port <= 65535;
  if (valid) {
    try {
      // The URL parser rejects hosts that cannot be dialed, and user info such as "a@host:1".
      const url = new URL(`ws://${address}/`);
      valid = url.username === '' && url.password === '' && url.pathname === '/';
    } catch {
      valid = false;
    }
  }
  if (!valid) {
    throw new Error(
      `invalid server address ${JSON.stringify(address)}: expected host:port, for example 127.0.0.1:4647`,
    );
  }
}
