import { randomInt } from 'node:crypto';
import { pino } from 'pino';
import WebSocket from 'ws';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { SERVER_RPC_PATH } from '../../src/rpc/connection.js';
import { decodeFrame, encodeFrame } from '../../src/rpc/frames.js';
import {
  type Frame,
  type Introduction,
  RpcTransport,
  type TransportOptions,
} from '../../src/rpc/transport.js';

export const sharedKey = Buffer.from(generateClusterKey(), 'base64');

/** Parsed pino lines of one logger, plus the raw text to search for leaked secrets. */
export class LogCapture {
  readonly lines: Record<string, unknown>[] = [];
  readonly text: string[] = [];
  readonly logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        this.text.push(line);
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );

  /** Lines whose `reason` field equals `reason`. */
  withReason(reason: string): Record<string, unknown>[] {
    return this.lines.filter((line) => line.reason === reason);
  }

  withMessage(fragment: string): Record<string, unknown>[] {
    return this.lines.filter((line) => typeof line.msg === 'string' && line.msg.includes(fragment));
  }
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export interface TestServer {
  readonly id: number;
  readonly transport: RpcTransport;
  readonly address: string;
  readonly logs: LogCapture;
  readonly frames: { from: number; frame: Frame }[];
  readonly introductions: { peerId: number; intro: Introduction }[];
}

export interface StartOptions
  extends Partial<Omit<TransportOptions, 'logger' | 'onFrame' | 'onIntroduction'>> {
  readonly id?: number;
}

/**
 * Starts a transport on 127.0.0.1 that records frames and introductions. A request of kind 'fail'
 * rejects with an Error and one of kind 'hang' never settles. Any other kind gets an 'echo'
 * response that carries the request and the sender's id.
 */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const { id: chosenId, ...transportOptions } = options;
  const id = chosenId ?? randomInt(1, 2 ** 48);
  const logs = new LogCapture();
  const frames: { from: number; frame: Frame }[] = [];
  const introductions: { peerId: number; intro: Introduction }[] = [];
  const transport = await RpcTransport.listen({
    host: '127.0.0.1',
    port: 0,
    clusterKey: sharedKey,
    introduction: () => ({ id, name: `server-${id}` }),
    onRequest: answerTestRequest,
    ...transportOptions,
    nodeId: id,
    logger: logs.logger,
    onFrame: (from, frame) => frames.push({ from, frame }),
    onIntroduction: (peerId, intro) => introductions.push({ peerId, intro }),
  });
  return { id, transport, address: `127.0.0.1:${transport.port}`, logs, frames, introductions };
}

function answerTestRequest(from: number, frame: Frame): Promise<Frame> {
  if (frame.kind === 'fail') return Promise.reject(new Error(`cannot do ${String(frame.what)}`));
  if (frame.kind === 'hang') return new Promise(() => {});
  return Promise.resolve({ kind: 'echo', from, request: frame });
}

/** Polls `condition` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A plain ws client that speaks to a transport's listener frame by frame. */
export class RawClient {
  readonly ws: WebSocket;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #received: Buffer[] = [];
  #waiter: (() => void) | null = null;

  constructor(port: number, path = SERVER_RPC_PATH, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { perMessageDeflate: false, ...options });
    this.ws.on('error', () => {});
    this.ws.on('message', (data: Buffer) => {
      this.#received.push(data);
      this.#waiter?.();
    });
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade rejected with HTTP ${response.statusCode}`)),
      );
      this.ws.once('error', reject);
    });
  }

  /** Resolves with the next frame the server sent, decoded. */
  async nextFrame(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (this.#received.length === 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame from the server');
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 20);
      });
    }
    const decoded = decodeFrame(this.#received.shift()!);
    if (!decoded.ok) throw new Error(`server sent an undecodable frame: ${decoded.reason}`);
    return decoded.frame;
  }

  sendFrame(frame: Frame): void {
    this.ws.send(encodeFrame(frame));
  }

  terminate(): void {
    this.ws.terminate();
  }
}
