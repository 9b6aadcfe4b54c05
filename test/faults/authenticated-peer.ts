import WebSocket from 'ws';
import { decodeClusterKey } from '../../src/rpc/cluster-key.js';
import { SERVER_RPC_PATH } from '../../src/rpc/connection.js';
import type { Frame, Introduction } from '../../src/rpc/envelope.js';
import { decodeFrame, encodeFrame } from '../../src/rpc/frames.js';
import { answerChallenge, type Challenge, handshakeKey } from '../../src/rpc/handshake.js';

/**
 * A hand-driven server connection that knows the cluster key: it passes the handshake as
 * `nodeId`, sends `introduction`, and then lets the test send whatever frames it likes. It stands
 * for a buggy or mismatched server version, which the agent must survive.
 */
export class AuthenticatedPeer {
  readonly #ws: WebSocket;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
  }

  /** Connects to `rpcAddr` and resolves once the handshake is done and the introduction is sent. */
  static connect(
    rpcAddr: string,
    clusterKey: string,
    nodeId: number,
    introduction: Introduction,
    timeoutMs = 10_000,
  ): Promise<AuthenticatedPeer> {
    const key = handshakeKey(decodeClusterKey(clusterKey));
    const ws = new WebSocket(`ws://${rpcAddr}${SERVER_RPC_PATH}`, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`handshake with ${rpcAddr} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      ws.on('error', reject);
      ws.on('close', (code) => reject(new Error(`${rpcAddr} closed the connection with code ${code}`)));
      ws.on('message', (data: Buffer) => {
        const decoded = decodeFrame(data);
        if (!decoded.ok || decoded.frame.kind !== 'handshake') return;
        const step = decoded.frame.step as { type?: string };
        if (step.type === 'challenge') {
          const hello = answerChallenge(key, step as Challenge, nodeId);
          ws.send(encodeFrame({ kind: 'handshake', step: hello }));
        } else if (step.type === 'welcome') {
          clearTimeout(timer);
          ws.send(encodeFrame({ kind: 'introduction', introduction }));
          resolve(new AuthenticatedPeer(ws));
        }
      });
    });
  }

  sendOneWay(frame: Frame): void {
    this.#ws.send(encodeFrame({ kind: 'one-way', frame }));
  }

  close(): void {
    this.#ws.terminate();
  }
}
