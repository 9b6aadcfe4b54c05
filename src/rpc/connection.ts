import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { type Envelope, type Frame, type Introduction, parseEnvelope } from './envelope.js';
import { decodeFrame, encodeFrame } from './frames.js';
import {
  answerChallenge,
  type Challenge,
  checkChallenge,
  createChallenge,
  type Hello,
  verifyHello,
  verifyWelcome,
} from './handshake.js';
import { maxBatchedFrameBytes, OneWayBatch } from './one-way-batch.js';
import type { RepeatLimiter } from './repeat-limiter.js';
import { TransportError } from './transport-error.js';

/** Websocket path of server-to-server connections on the RPC port. */
export const SERVER_RPC_PATH = '/v1/rpc/server';

/**
 * Maximum bytes an acceptor reads from a connection before the dialer has proved that it has the
 * cluster key. A hello takes about 140 bytes on the wire, so 4 KiB leaves room to spare while it
 * keeps a stranger from making the server buffer a frame of up to maxFrameBytes.
 */
export const MAX_UNAUTHENTICATED_BYTES = 4096;

/** How long ws waits for the peer's close frame before it destroys the socket (ws default: 30 s). */
const CLOSE_TIMEOUT_MS = 1000;

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** Maximum length of the remote error message in an error-response, in characters. */
const MAX_REMOTE_MESSAGE_CHARS = 4096;

/**
 * Reason a connection closed. The reasons from handshake-failed to heartbeat-timeout mean that the
 * peer broke the protocol or went silent, and they are logged at warn. internal-error is a bug on
 * this side, logged at error. The others are normal events, which the transport logs where needed.
 */
export type CloseReason =
  | 'handshake-failed'
  | 'handshake-rejected'
  | 'handshake-timeout'
  | 'handshake-too-large'
  | 'malformed-frame'
  | 'frame-too-large'
  | 'text-frame'
  | 'unexpected-frame'
  | 'protocol-error'
  | 'heartbeat-timeout'
  | 'internal-error'
  | 'self-connection'
  | 'duplicate-link'
  | 'peer-closed'
  | 'socket-error'
  | 'forgotten'
  | 'shutdown';

/** Settings and callbacks that a connection gets from the transport that owns it. */
export interface ConnectionHost {
  readonly localId: number;
  /** Handshake key derived from the cluster key. */
  readonly key: Buffer;
  readonly maxFrameBytes: number;
  readonly maxBufferedBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly logger: Logger;
  readonly limiter: RepeatLimiter;
  introduction(): Introduction;
  /**
   * Called once the handshake is done and the peer's introduction arrived. Returns false when the
   * transport closed the connection instead of keeping it.
   */
  established(connection: ServerConnection, introduction: Introduction): boolean;
  frame(from: number, frame: Frame): void;
  request(from: number, frame: Frame): Promise<Frame>;
  /** Called once, when the connection stops being usable (before the socket has fully closed). */
  closed(connection: ServerConnection, reason: CloseReason, detail: string): void;
}

type ConnectionState =
  | 'awaiting-challenge'
  | 'awaiting-hello'
  | 'awaiting-welcome'
  | 'awaiting-introduction'
  | 'open'
  | 'closed';

interface PendingRequest {
  resolve(frame: Frame): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

// Close codes from RFC 6455 section 7.4.1: 1000 normal, 1001 going away, 1002 protocol error, 1003
// unsupported data, 1008 policy violation, 1009 message too big, 1011 internal error. Codes
// 4000-4999 are free for applications.
const CLOSE_CODES: Record<CloseReason, number> = {
  'handshake-failed': 1008,
  'handshake-rejected': 1008,
  'handshake-timeout': 1008,
  'handshake-too-large': 1008,
  'malformed-frame': 1002,
  'frame-too-large': 1009,
  'text-frame': 1003,
  'unexpected-frame': 1002,
  'protocol-error': 1002,
  'heartbeat-timeout': 1001,
  'internal-error': 1011,
  'self-connection': 4000,
  'duplicate-link': 4001,
  'peer-closed': 1000,
  'socket-error': 1000,
  forgotten: 1000,
  shutdown: 1001,
};

/**
 * One websocket between two servers, from either side. It runs the handshake (the acceptor sends
 * the challenge), exchanges introductions, and only then passes frames to the transport. Requests
 * sent on it get their responses on it; they fail with CLOSED when it closes. No event handler
 * throws: a peer that breaks the protocol gets its connection closed with a logged reason.
 */
export class ServerConnection {
  readonly role: 'acceptor' | 'dialer';
  /** host:port that the dialer dialed, or the remote address of an accepted socket. */
  readonly remoteAddress: string;
  /** Resolves once the socket has closed, at most CLOSE_TIMEOUT_MS after close() for a silent peer. */
  readonly fullyClosed: Promise<void>;

  readonly #ws: WebSocket;
  readonly #host: ConnectionHost;
  #state: ConnectionState;
  #peerId = 0;
  #challenge: Challenge | null = null;
  #hello: Hello | null = null;
  #handshakeTimer: NodeJS.Timeout | null;
  #unauthenticatedSocket: Socket | null = null;
  #unauthenticatedBytes = 0;
  #onAuthenticated: (() => void) | null = null;
  readonly #pending = new Map<number, PendingRequest>();
  readonly #batch: OneWayBatch;
  #nextRequestId = 1;
  #alive = true;

  /** Wraps a websocket that the listener accepted and sends the challenge. */
  static accept(
    ws: WebSocket,
    socket: Socket,
    remoteAddress: string,
    host: ConnectionHost,
    onAuthenticated: () => void,
  ): ServerConnection {
    const connection = new ServerConnection(ws, 'acceptor', remoteAddress, host);
    connection.#startAcceptor(socket, onAuthenticated);
    return connection;
  }

  /** Dials `address` (host:port) and waits for its challenge. */
  static dial(address: string, host: ConnectionHost): ServerConnection {
    // closeTimeout is a ws 8.23.1 client option that @types/ws 8.18.2 does not declare.
    const options: WebSocket.ClientOptions & { closeTimeout: number } = {
      perMessageDeflate: false,
      maxPayload: host.maxFrameBytes,
      closeTimeout: CLOSE_TIMEOUT_MS,
      // Masking guards browsers' traffic from caching proxies; between two servers that proved the
      // cluster key it only costs a copy of every frame. ws sends a zero mask without touching the data.
      generateMask: zeroMask,
    };
    const ws = new WebSocket(`ws://${address}${SERVER_RPC_PATH}`, options);
    return new ServerConnection(ws, 'dialer', address, host);
  }

  private constructor(
    ws: WebSocket,
    role: 'acceptor' | 'dialer',
    remoteAddress: string,
    host: ConnectionHost,
  ) {
    this.#ws = ws;
    this.role = role;
    this.remoteAddress = remoteAddress;
    this.#host = host;
    this.#batch = new OneWayBatch((bytes) => this.#ws.send(bytes), host.maxFrameBytes);
    this.#state = role === 'acceptor' ? 'awaiting-hello' : 'awaiting-challenge';
    this.#handshakeTimer = setTimeout(() => this.#onHandshakeTimeout(), host.handshakeTimeoutMs);
    this.fullyClosed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => this.#guard(() => this.#onMessage(data, isBinary)));
    ws.on('close', (code, reason) => this.#guard(() => this.#onSocketClose(code, reason)));
    ws.on('error', (error) => this.#guard(() => this.#onSocketError(error)));
    ws.on('pong', () => {
      this.#alive = true;
    });
  }

  /** Node id of the peer, proven by the handshake; 0 before that. */
  get peerId(): number {
    return this.#peerId;
  }

  /** True once introductions are exchanged and until the connection closes. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /**
   * Sends a one-way frame. Returns false, dropping the frame, when the connection is not open or
   * its socket already buffers more than maxBufferedBytes (the sender, Raft, retries on its own).
   * Throws when the frame encodes to more than maxFrameBytes, which is the caller's error.
   */
  sendOneWay(frame: Frame): boolean {
    if (this.#state !== 'open') return false;
    const buffered = this.#ws.bufferedAmount + this.#batch.pendingBytes;
    if (buffered > this.#host.maxBufferedBytes) {
      this.#host.logger.debug(
        {
          peerId: this.#peerId,
          remoteAddress: this.remoteAddress,
          bufferedBytes: buffered,
          frameKind: frame.kind,
        },
        'dropped one-way frame: socket send buffer is full',
      );
      return false;
    }
    this.#batch.add(encodeFrame(frame, maxBatchedFrameBytes(this.#host.maxFrameBytes)));
    return true;
  }

  /**
   * Sends a request and resolves with the peer's response. Rejects with a TransportError: TIMEOUT
   * after timeoutMs, CLOSED when the connection closes first, REMOTE when the peer's handler
   * rejected. Rejects with a plain Error when the frame encodes to more than maxFrameBytes.
   */
  request(frame: Frame, timeoutMs: number): Promise<Frame> {
    if (this.#state !== 'open') {
      return Promise.reject(
        new TransportError('CLOSED', this.#peerId, `connection to server ${this.#peerId} is closed`),
      );
    }
    const id = this.#nextRequestId++;
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ kind: 'request', id, frame }, this.#host.maxFrameBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    // TODO: apply backpressure to requests too. They are sent even when the send buffer is above
    // maxBufferedBytes; each is bounded by maxFrameBytes and its caller's timeout, but many at once
    // could grow the buffer.
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new TransportError(
            'TIMEOUT',
            this.#peerId,
            `request ${frame.kind} to server ${this.#peerId} timed out after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#send(bytes);
    });
  }

  /**
   * Called on an interval by the transport. Closes the connection when nothing (no frame, no
   * pong) arrived since the previous call, then pings the peer.
   */
  heartbeat(): void {
    if (this.#state !== 'open') return;
    if (!this.#alive) {
      this.#reject('heartbeat-timeout', 'no frame and no pong from the peer since the previous ping');
      return;
    }
    this.#alive = false;
    this.#ws.ping();
  }

  /** Closes the connection; the first reason given is the one reported. Safe to call repeatedly. */
  close(reason: CloseReason, detail = ''): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#batch.clear();
    this.#clearHandshakeTimer();
    this.#stopCountingUnauthenticatedBytes();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new TransportError(
          'CLOSED',
          this.#peerId,
          `connection to server ${this.#peerId} closed (${reason}) before the response arrived`,
        ),
      );
      this.#pending.delete(id);
    }
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close(CLOSE_CODES[reason], reason);
    else if (this.#ws.readyState === WebSocket.CONNECTING) this.#ws.terminate();
    this.#host.closed(this, reason, detail);
  }

  /** Destroys the socket without waiting for the peer's close frame. */
  terminate(): void {
    this.#ws.terminate();
  }

  #startAcceptor(socket: Socket, onAuthenticated: () => void): void {
    this.#onAuthenticated = onAuthenticated;
    this.#unauthenticatedSocket = socket;
    // Prepended so that each chunk is counted before ws parses it: a chunk that brings the total
    // over the limit closes the connection before any frame in it is handled.
    socket.prependListener('data', this.#countUnauthenticatedBytes);
    this.#challenge = createChallenge();
    this.#sendEnvelope({ kind: 'handshake', step: this.#challenge });
  }

  readonly #countUnauthenticatedBytes = (chunk: Buffer): void => {
    this.#unauthenticatedBytes += chunk.length;
    if (this.#unauthenticatedBytes <= MAX_UNAUTHENTICATED_BYTES) return;
    this.#guard(() =>
      this.#reject(
        'handshake-too-large',
        `received ${this.#unauthenticatedBytes} bytes before authentication, ` +
          `above the limit of ${MAX_UNAUTHENTICATED_BYTES}`,
      ),
    );
  };

  #stopCountingUnauthenticatedBytes(): void {
    this.#unauthenticatedSocket?.off('data', this.#countUnauthenticatedBytes);
    this.#unauthenticatedSocket = null;
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    this.#alive = true;
    if (!isBinary) {
      this.#reject('text-frame', 'received a text message; server connections carry binary frames only');
      return;
    }
    const decoded = decodeFrame(toBytes(data), this.#host.maxFrameBytes);
    if (!decoded.ok) {
      this.#reject('malformed-frame', decoded.reason);
      return;
    }
    const envelope = parseEnvelope(decoded.frame);
    if (typeof envelope === 'string') {
      this.#reject('malformed-frame', envelope);
      return;
    }
    switch (this.#state) {
      case 'awaiting-challenge':
        this.#receiveChallenge(envelope);
        return;
      case 'awaiting-hello':
        this.#receiveHello(envelope);
        return;
      case 'awaiting-welcome':
        this.#receiveWelcome(envelope);
        return;
      case 'awaiting-introduction':
        this.#receiveIntroduction(envelope);
        return;
      case 'open':
        this.#receive(envelope);
        return;
    }
  }

  #receiveChallenge(envelope: Envelope): void {
    if (envelope.kind !== 'handshake') {
      this.#rejectUnexpected(envelope, 'a challenge');
      return;
    }
    const problem = checkChallenge(envelope.step);
    if (problem !== null) {
      this.#reject('handshake-failed', problem);
      return;
    }
    this.#challenge = envelope.step as Challenge;
    this.#hello = answerChallenge(this.#host.key, this.#challenge, this.#host.localId);
    this.#state = 'awaiting-welcome';
    this.#sendEnvelope({ kind: 'handshake', step: this.#hello });
  }

  #receiveHello(envelope: Envelope): void {
    if (envelope.kind !== 'handshake') {
      this.#rejectUnexpected(envelope, 'a hello');
      return;
    }
    const welcome = verifyHello(this.#host.key, this.#challenge!, envelope.step, this.#host.localId);
    if (typeof welcome === 'string') {
      this.#reject('handshake-failed', welcome);
      return;
    }
    this.#peerId = (envelope.step as Hello).nodeId;
    this.#stopCountingUnauthenticatedBytes();
    this.#onAuthenticated?.();
    this.#onAuthenticated = null;
    this.#sendEnvelope({ kind: 'handshake', step: welcome });
    // The dialer learns from the welcome that it reached itself and stops dialing this address.
    if (this.#peerId === this.#host.localId) {
      this.close('self-connection');
      return;
    }
    this.#state = 'awaiting-introduction';
    this.#sendIntroduction();
  }

  #receiveWelcome(envelope: Envelope): void {
    if (envelope.kind !== 'handshake') {
      this.#rejectUnexpected(envelope, 'a welcome');
      return;
    }
    const welcome = verifyWelcome(this.#host.key, this.#challenge!, this.#hello!, envelope.step);
    if (typeof welcome === 'string') {
      this.#reject('handshake-failed', welcome);
      return;
    }
    this.#peerId = welcome.nodeId;
    if (this.#peerId === this.#host.localId) {
      this.close('self-connection');
      return;
    }
    this.#state = 'awaiting-introduction';
    this.#sendIntroduction();
  }

  #receiveIntroduction(envelope: Envelope): void {
    if (envelope.kind !== 'introduction') {
      this.#rejectUnexpected(envelope, 'an introduction');
      return;
    }
    this.#clearHandshakeTimer();
    this.#state = 'open';
    this.#host.established(this, envelope.introduction);
  }

  #receive(envelope: Envelope): void {
    switch (envelope.kind) {
      case 'one-way':
        this.#deliver(envelope.frame);
        return;
      case 'one-way-batch':
        this.#deliverBatch(envelope.frames);
        return;
      case 'request':
        this.#answer(envelope.id, envelope.frame);
        return;
      case 'response':
      case 'error-response':
        this.#settle(envelope);
        return;
      default:
        this.#rejectUnexpected(envelope, 'a one-way frame, a request or a response');
    }
  }

  /** Decodes the whole batch before delivering any of it, so a malformed batch delivers nothing. */
  #deliverBatch(batch: readonly Uint8Array[]): void {
    const frames: Frame[] = [];
    for (const bytes of batch) {
      const decoded = decodeFrame(bytes, this.#host.maxFrameBytes);
      if (!decoded.ok) {
        this.#reject('malformed-frame', `in a one-way batch: ${decoded.reason}`);
        return;
      }
      frames.push(decoded.frame);
    }
    for (const frame of frames) {
      // A handler may close the connection; the rest of the batch then goes nowhere.
      if (this.#state !== 'open') return;
      this.#deliver(frame);
    }
  }

  #deliver(frame: Frame): void {
    try {
      this.#host.frame(this.#peerId, frame);
    } catch (error) {
      this.#host.logger.error(
        { err: error, peerId: this.#peerId, frameKind: frame.kind },
        'frame handler threw; the frame is lost but the connection stays open',
      );
    }
  }

  #answer(id: number, frame: Frame): void {
    let response: Promise<Frame>;
    try {
      response = Promise.resolve(this.#host.request(this.#peerId, frame));
    } catch (error) {
      response = Promise.reject(error);
    }
    response.then(
      (result) => this.#guard(() => this.#sendResponse(id, frame.kind, result)),
      (error: unknown) => this.#guard(() => this.#sendErrorResponse(id, error)),
    );
  }

  #sendResponse(id: number, requestKind: string, result: Frame): void {
    if (this.#state !== 'open') return;
    if (typeof result !== 'object' || result === null || typeof result.kind !== 'string') {
      this.#sendErrorResponse(id, new Error(`the handler of ${requestKind} requests returned no frame`));
      return;
    }
    let bytes: Buffer;
    try {
      bytes = encodeFrame({ kind: 'response', id, frame: result }, this.#host.maxFrameBytes);
    } catch (error) {
      this.#sendErrorResponse(id, error);
      return;
    }
    this.#send(bytes);
  }

  #sendErrorResponse(id: number, error: unknown): void {
    if (this.#state !== 'open') return;
    const message = error instanceof Error ? error.message : String(error);
    this.#sendEnvelope({ kind: 'error-response', id, message: message.slice(0, MAX_REMOTE_MESSAGE_CHARS) });
  }

  #settle(envelope: Extract<Envelope, { kind: 'response' | 'error-response' }>): void {
    const pending = this.#pending.get(envelope.id);
    if (pending === undefined) {
      // Normal after a timeout: the response came too late and no caller waits for it any more.
      this.#host.logger.debug(
        { peerId: this.#peerId, requestId: envelope.id },
        'response to no pending request',
      );
      return;
    }
    this.#pending.delete(envelope.id);
    clearTimeout(pending.timer);
    if (envelope.kind === 'response') pending.resolve(envelope.frame);
    else pending.reject(new TransportError('REMOTE', this.#peerId, envelope.message));
  }

  #sendIntroduction(): void {
    let introduction: Introduction;
    try {
      introduction = this.#host.introduction();
    } catch (error) {
      this.#host.logger.error({ err: error }, 'introduction() threw; closing the server connection');
      this.close('internal-error', 'introduction() threw');
      return;
    }
    this.#sendEnvelope({ kind: 'introduction', introduction });
  }

  /** Sends a transport envelope; a failure to encode one is a bug here, reported as internal-error. */
  #sendEnvelope(envelope: Envelope): void {
    if (this.#ws.readyState !== WebSocket.OPEN) return;
    let bytes: Buffer;
    try {
      bytes = encodeFrame(envelope, this.#host.maxFrameBytes);
    } catch (error) {
      this.#host.logger.error({ err: error, frameKind: envelope.kind }, 'cannot encode transport frame');
      this.close('internal-error', `cannot encode ${envelope.kind} frame`);
      return;
    }
    this.#send(bytes);
  }

  /** Sends a frame after the one-way frames waiting in the batch, so that none overtakes another. */
  #send(bytes: Buffer): void {
    this.#batch.flush();
    this.#ws.send(bytes);
  }

  #onHandshakeTimeout(): void {
    this.#handshakeTimer = null;
    this.#reject(
      'handshake-timeout',
      `handshake timed out: introductions not exchanged after ${this.#host.handshakeTimeoutMs} ms (state ${this.#state})`,
    );
  }

  #onSocketClose(code: number, reason: Buffer): void {
    if (this.#state === 'closed') return;
    const reasonText = reason.toString('utf8').slice(0, 123);
    const detail = `peer closed the connection with code ${code}${reasonText === '' ? '' : ` (${reasonText})`}`;
    const handshaking =
      this.#state === 'awaiting-challenge' ||
      this.#state === 'awaiting-welcome' ||
      this.#state === 'awaiting-hello';
    // An acceptor that rejects our hello closes with 1008: report that as a handshake failure.
    if (handshaking && code === CLOSE_CODES['handshake-rejected']) this.#reject('handshake-rejected', detail);
    else this.close('peer-closed', detail);
  }

  #onSocketError(error: Error): void {
    if (this.#state === 'closed') return;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#reject('frame-too-large', error.message);
    else if (code.startsWith('WS_ERR_')) this.#reject('protocol-error', error.message);
    else this.close('socket-error', error.message);
  }

  /** Logs why the peer's connection is being closed, at warn unless it repeats, then closes it. */
  #reject(reason: CloseReason, detail: string): void {
    if (this.#state === 'closed') return;
    // A peer that redials comes from a new port each time, so an acceptor counts repeats by host.
    const source =
      this.role === 'acceptor'
        ? this.remoteAddress.slice(0, this.remoteAddress.lastIndexOf(':'))
        : this.remoteAddress;
    const suppressed = this.#host.limiter.admit(`${source} ${reason}`);
    const fields = {
      remoteAddress: this.remoteAddress,
      role: this.role,
      peerId: this.#peerId === 0 ? undefined : this.#peerId,
      reason,
      detail,
      repeatsSuppressed: suppressed === null || suppressed === 0 ? undefined : suppressed,
    };
    if (suppressed === null) this.#host.logger.debug(fields, 'closing server connection');
    else this.#host.logger.warn(fields, 'closing server connection');
    this.close(reason, detail);
  }

  #rejectUnexpected(envelope: Envelope, expected: string): void {
    this.#reject(
      'unexpected-frame',
      `expected ${expected} while ${this.#state}, got a ${envelope.kind} frame`,
    );
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }

  /** Runs an event handler; a throw there is a bug in this file, so it is logged and the connection closed. */
  #guard(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      this.#host.logger.error(
        { err: error, remoteAddress: this.remoteAddress, peerId: this.#peerId },
        'server connection handler threw',
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
