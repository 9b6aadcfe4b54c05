import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './cluster-key.js';

/**
 * Mutual challenge-response authentication of a server-to-server connection, before any Raft
 * message is accepted. Both sides prove knowledge of the cluster key without sending it:
 *
 *   acceptor -> dialer   challenge { acceptorNonce }
 *   dialer   -> acceptor hello     { nodeId, dialerNonce, proof = HMAC(k, "dialer" | both nonces | nodeId) }
 *   acceptor -> dialer   welcome   { proof = HMAC(k, "acceptor" | both nonces | nodeId) }
 *
 * k is derived from the cluster key with HKDF under its own label. Fresh 32-byte nonces on both
 * sides make every proof single-use, so a recorded handshake cannot be replayed, and the role
 * label keeps one side's proof from being reflected back as the other's.
 */
export const HANDSHAKE_VERSION = 1;
const NONCE_BYTES = 32;
const LABEL = 'rpc handshake v1';

export interface Challenge {
  readonly type: 'challenge';
  readonly v: number;
  readonly nonce: Uint8Array;
}

export interface Hello {
  readonly type: 'hello';
  readonly v: number;
  readonly nodeId: number;
  readonly nonce: Uint8Array;
  readonly proof: Uint8Array;
}

export interface Welcome {
  readonly type: 'welcome';
  readonly v: number;
  readonly proof: Uint8Array;
}

/** Derives the handshake key once per process from the decoded cluster key. */
export function handshakeKey(clusterKey: Buffer): Buffer {
  return deriveKey(clusterKey, LABEL);
}

export function createChallenge(): Challenge {
  return { type: 'challenge', v: HANDSHAKE_VERSION, nonce: randomBytes(NONCE_BYTES) };
}

/** Builds the hello that responds to an acceptor's challenge, for the dialing server `nodeId`. */
export function answerChallenge(key: Buffer, challenge: Challenge, nodeId: number): Hello {
  const nonce = randomBytes(NONCE_BYTES);
  return {
    type: 'hello',
    v: HANDSHAKE_VERSION,
    nodeId,
    nonce,
    proof: prove(key, 'dialer', challenge.nonce, nonce, nodeId),
  };
}

/**
 * Checks a dialer's hello against the challenge this acceptor sent. Returns the welcome to send,
 * or a reason to close the connection (which never includes key material).
 */
export function verifyHello(key: Buffer, challenge: Challenge, hello: unknown): Welcome | string {
  const problem = checkHelloShape(hello);
  if (problem !== null) return problem;
  const { nodeId, nonce, proof } = hello as Hello;
  if (!sameBytes(proof, prove(key, 'dialer', challenge.nonce, nonce, nodeId))) {
    return `handshake failed for node ${nodeId}: proof does not match; check that both servers use the same server.encrypt`;
  }
  return {
    type: 'welcome',
    v: HANDSHAKE_VERSION,
    proof: prove(key, 'acceptor', challenge.nonce, nonce, nodeId),
  };
}

/** Checks the acceptor's welcome on the dialer side. Returns null when the acceptor proved it has the key. */
export function verifyWelcome(
  key: Buffer,
  challenge: Challenge,
  hello: Hello,
  welcome: unknown,
): string | null {
  if (typeof welcome !== 'object' || welcome === null) return 'handshake failed: welcome is not an object';
  const { type, v, proof } = welcome as Record<string, unknown>;
  if (type !== 'welcome' || v !== HANDSHAKE_VERSION)
    return 'handshake failed: expected a welcome of version 1';
  if (!(proof instanceof Uint8Array)) return 'handshake failed: welcome proof is not a byte array';
  if (!sameBytes(proof, prove(key, 'acceptor', challenge.nonce, hello.nonce, hello.nodeId))) {
    return 'handshake failed: the acceptor does not know the cluster key; check server.encrypt on both servers';
  }
  return null;
}

function checkHelloShape(hello: unknown): string | null {
  if (typeof hello !== 'object' || hello === null) return 'handshake failed: hello is not an object';
  const { type, v, nodeId, nonce, proof } = hello as Record<string, unknown>;
  if (type !== 'hello') return `handshake failed: expected hello, got ${String(type).slice(0, 40)}`;
  if (v !== HANDSHAKE_VERSION)
    return `handshake failed: unsupported handshake version ${String(v).slice(0, 20)}`;
  if (typeof nodeId !== 'number' || !Number.isSafeInteger(nodeId) || nodeId <= 0) {
    return 'handshake failed: nodeId is not a positive integer';
  }
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES)
    return 'handshake failed: nonce must be 32 bytes';
  if (!(proof instanceof Uint8Array)) return 'handshake failed: proof is not a byte array';
  return null;
}

function prove(
  key: Buffer,
  role: 'dialer' | 'acceptor',
  acceptorNonce: Uint8Array,
  dialerNonce: Uint8Array,
  nodeId: number,
): Buffer {
  return createHmac('sha256', key)
    .update(role)
    .update(acceptorNonce)
    .update(dialerNonce)
    .update(String(nodeId))
    .digest();
}

/** Constant-time comparison, so the time taken reveals nothing about how much of a proof matched. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
