import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveKey } from './cluster-key.js';

/**
 * Mutual challenge-response authentication of a server-to-server connection, before any Raft
 * message is accepted. Both sides prove knowledge of the cluster key without sending it:
 *
 *   acceptor -> dialer   challenge { acceptorNonce }
 *   dialer   -> acceptor hello     { dialerId, dialerNonce, proof = HMAC(k, "dialer" | both nonces | dialerId) }
 *   acceptor -> dialer   welcome   { acceptorId, proof = HMAC(k, "acceptor" | both nonces | dialerId | acceptorId) }
 *
 * k is derived from the cluster key with HKDF under its own label. Fresh 32-byte nonces on both
 * sides make every proof single-use, so a recorded handshake cannot be replayed, and the role
 * label keeps one side's proof from being reflected back as the other's. The welcome proof covers
 * the acceptor's id, so the dialer learns whom it reached and no one without the key can alter it.
 * Node ids enter the HMAC as 8-byte big-endian integers, so two ids in a row cannot be confused
 * with two other ids whose decimal digits concatenate to the same text.
 */
export const HANDSHAKE_VERSION = 2;
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
  /** Node id of the acceptor. */
  readonly nodeId: number;
  readonly proof: Uint8Array;
}

/** Derives the handshake key once per process from the decoded cluster key. */
export function handshakeKey(clusterKey: Buffer): Buffer {
  return deriveKey(clusterKey, LABEL);
}

export function createChallenge(): Challenge {
  return { type: 'challenge', v: HANDSHAKE_VERSION, nonce: randomBytes(NONCE_BYTES) };
}

/**
 * Checks the shape of a challenge received from an acceptor, which is not authenticated yet.
 * Returns a reason to close the connection, or null.
 */
export function checkChallenge(challenge: unknown): string | null {
  if (typeof challenge !== 'object' || challenge === null) return 'handshake failed: challenge is not a map';
  const { type, v, nonce } = challenge as Record<string, unknown>;
  if (type !== 'challenge') return `handshake failed: expected challenge, got ${String(type).slice(0, 40)}`;
  if (v !== HANDSHAKE_VERSION)
    return `handshake failed: unsupported handshake version ${String(v).slice(0, 20)}`;
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES)
    return 'handshake failed: challenge nonce must be 32 bytes';
  return null;
}

/** Builds the hello that responds to an acceptor's challenge, for the dialing server `nodeId`. */
export function answerChallenge(key: Buffer, challenge: Challenge, nodeId: number): Hello {
  const nonce = randomBytes(NONCE_BYTES);
  return {
    type: 'hello',
    v: HANDSHAKE_VERSION,
    nodeId,
    nonce,
    proof: proveDialer(key, challenge.nonce, nonce, nodeId),
  };
}

/**
 * Checks a dialer's hello against the challenge this acceptor sent. Returns the welcome that
 * proves `acceptorId`, or a reason to close the connection (which never includes key material).
 * After a welcome, `hello` is a valid Hello and its nodeId is the authenticated dialer.
 */
export function verifyHello(
  key: Buffer,
  challenge: Challenge,
  hello: unknown,
  acceptorId: number,
): Welcome | string {
  const problem = checkHelloShape(hello);
  if (problem !== null) return problem;
  const { nodeId, nonce, proof } = hello as Hello;
  if (!sameBytes(proof, proveDialer(key, challenge.nonce, nonce, nodeId))) {
    return `handshake failed for node ${nodeId}: proof does not match; check that both servers use the same server.encrypt`;
  }
  return {
    type: 'welcome',
    v: HANDSHAKE_VERSION,
    nodeId: acceptorId,
    proof: proveAcceptor(key, challenge.nonce, nonce, nodeId, acceptorId),
  };
}

/**
 * Checks the acceptor's welcome on the dialer side. Returns the welcome, whose nodeId is then the
 * authenticated acceptor, or a reason to close the connection.
 */
export function verifyWelcome(
  key: Buffer,
  challenge: Challenge,
  hello: Hello,
  welcome: unknown,
): Welcome | string {
  if (typeof welcome !== 'object' || welcome === null) return 'handshake failed: welcome is not a map';
  const { type, v, nodeId, proof } = welcome as Record<string, unknown>;
  if (type !== 'welcome' || v !== HANDSHAKE_VERSION)
    return `handshake failed: expected a welcome of version ${HANDSHAKE_VERSION}`;
  if (!isNodeId(nodeId)) return 'handshake failed: welcome nodeId is not a positive integer';
  if (!(proof instanceof Uint8Array)) return 'handshake failed: welcome proof is not a byte array';
  if (!sameBytes(proof, proveAcceptor(key, challenge.nonce, hello.nonce, hello.nodeId, nodeId))) {
    return 'handshake failed: the acceptor does not know the cluster key; check server.encrypt on both servers';
  }
  return welcome as unknown as Welcome;
}

function checkHelloShape(hello: unknown): string | null {
  if (typeof hello !== 'object' || hello === null) return 'handshake failed: hello is not a map';
  const { type, v, nodeId, nonce, proof } = hello as Record<string, unknown>;
  if (type !== 'hello') return `handshake failed: expected hello, got ${String(type).slice(0, 40)}`;
  if (v !== HANDSHAKE_VERSION)
    return `handshake failed: unsupported handshake version ${String(v).slice(0, 20)}`;
  if (!isNodeId(nodeId)) return 'handshake failed: nodeId is not a positive integer';
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES)
    return 'handshake failed: nonce must be 32 bytes';
  if (!(proof instanceof Uint8Array)) return 'handshake failed: proof is not a byte array';
  return null;
}

function isNodeId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

function proveDialer(
  key: Buffer,
  acceptorNonce: Uint8Array,
  dialerNonce: Uint8Array,
  dialerId: number,
): Buffer {
  return createHmac('sha256', key)
    .update('dialer')
    .update(acceptorNonce)
    .update(dialerNonce)
    .update(idBytes(dialerId))
    .digest();
}

function proveAcceptor(
  key: Buffer,
  acceptorNonce: Uint8Array,
  dialerNonce: Uint8Array,
  dialerId: number,
  acceptorId: number,
): Buffer {
  return createHmac('sha256', key)
    .update('acceptor')
    .update(acceptorNonce)
    .update(dialerNonce)
    .update(idBytes(dialerId))
    .update(idBytes(acceptorId))
    .digest();
}

function idBytes(nodeId: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(nodeId));
  return bytes;
}

/** Constant-time comparison, so the time taken reveals nothing about how much of a proof matched. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
