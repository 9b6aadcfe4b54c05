import { verify } from 'node:crypto';
import type { SigningKey } from '../keyring/index.js';
import type { IdentityClaims } from './claims.js';
import { type CompactJws, ED25519_SIGNATURE_BYTES, parseCompactJws, parsePayload } from './compact-jws.js';
import { IdentityError } from './errors.js';
import { readClaims } from './read-claims.js';

/** Clock skew allowed on `nbf`, `iat` and `exp`, in seconds, as Nomad allows. */
export const DEFAULT_LEEWAY_SECONDS = 60;

/** Root key ids are UUIDs. A kid of another shape is neither looked up nor copied into messages. */
const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Algorithm names short and plain enough to quote in a message. */
const QUOTABLE_ALG = /^[A-Za-z0-9+_-]{1,32}$/;

export interface VerifyIdentityOptions {
  /**
   * Returns the signing key of a root key id, or null when this server has no such key. Called
   * only after the header passed its checks. `unverifiedClaims` is the payload, or null when it is
   * not a JSON object. Its signature is not checked yet, so it may decide how the key is looked up
   * (whether to wait for it), never whether the token is accepted.
   */
  key(kid: string, unverifiedClaims: Readonly<Record<string, unknown>> | null): Promise<SigningKey | null>;
  /** Current time, Unix milliseconds. */
  readonly now: number;
  /** Clock skew allowed on the time claims, in seconds; DEFAULT_LEEWAY_SECONDS when absent. */
  readonly leewaySeconds?: number;
}

function describeAlg(alg: unknown): string {
  if (alg === undefined) return 'is missing';
  if (typeof alg === 'string' && QUOTABLE_ALG.test(alg)) return `${JSON.stringify(alg)} is not allowed`;
  return 'is not allowed';
}

/**
 * Checks the header and returns its key id. The algorithm is pinned to EdDSA before anything else,
 * so `none`, HMAC with the public key as the secret, and RSA tokens are rejected without a key
 * lookup. Unknown `crit` extensions cannot be honoured, so any `crit` is rejected (RFC 7515 4.1.11).
 */
function checkHeader(header: CompactJws['header']): string {
  if (header.alg !== 'EdDSA') {
    throw new IdentityError(
      'ALGORITHM_NOT_ALLOWED',
      `invalid workload identity: header alg ${describeAlg(header.alg)}, only EdDSA is accepted`,
    );
  }
  if (header.typ !== undefined && header.typ !== 'JWT') {
    throw new IdentityError(
      'TOKEN_MALFORMED',
      'invalid workload identity: header typ must be JWT when present',
    );
  }
  if (header.crit !== undefined) {
    throw new IdentityError('TOKEN_MALFORMED', 'invalid workload identity: header crit is not supported');
  }

  const kid = header.kid;
  if (kid === undefined || kid === '') {
    throw new IdentityError('KEY_ID_MISSING', 'invalid workload identity: header has no kid (root key id)');
  }
  if (typeof kid !== 'string') {
    throw new IdentityError('TOKEN_MALFORMED', 'invalid workload identity: header kid must be a string');
  }
  if (!KEY_ID_PATTERN.test(kid)) {
    throw new IdentityError('KEY_UNKNOWN', 'invalid workload identity: header kid is not a root key id');
  }
  return kid;
}

/**
 * Checks `nbf`, `iat` and `exp` against `nowMs` with `leeway` seconds of clock skew. Throws an
 * IdentityError (TOKEN_NOT_YET_VALID, TOKEN_ISSUED_IN_FUTURE or TOKEN_EXPIRED).
 */
export function checkTimeClaims(claims: IdentityClaims, nowMs: number, leeway: number, keyId: string): void {
  const now = Math.floor(nowMs / 1000);
  const ids = { keyId, allocationId: claims.nomad_allocation_id };
  if (claims.nbf > now + leeway) {
    throw new IdentityError(
      'TOKEN_NOT_YET_VALID',
      `workload identity not valid yet: nbf is ${claims.nbf - now} s after now, more than the ${leeway} s leeway`,
      ids,
    );
  }
  if (claims.iat > now + leeway) {
    throw new IdentityError(
      'TOKEN_ISSUED_IN_FUTURE',
      `workload identity issued in the future: iat is ${claims.iat - now} s after now, more than the ${leeway} s leeway`,
      ids,
    );
  }
  if (claims.exp !== undefined && claims.exp < now - leeway) {
    throw new IdentityError(
      'TOKEN_EXPIRED',
      `workload identity expired: exp is ${now - claims.exp} s before now, more than the ${leeway} s leeway`,
      ids,
    );
  }
}

/** Claims of a verified token, with the root key that signed it. */
export interface VerifiedToken {
  readonly claims: IdentityClaims;
  readonly keyId: string;
  /** The keyring's key object that the signature verified with. */
  readonly key: SigningKey;
}

/**
 * Verifies a workload identity token and returns its claims. The checks run in this order: the
 * compact JWS shape, the header (alg pinned to EdDSA, typ, kid), the key lookup, the Ed25519
 * signature with node:crypto, the claims' types, then `nbf`, `iat` and `exp` against `now` with
 * the leeway. Throws an IdentityError whose code names the first check that failed, and a
 * RangeError for a negative leeway.
 */
export async function verifyIdentity(token: string, options: VerifyIdentityOptions): Promise<IdentityClaims> {
  return (await verifyToken(token, options)).claims;
}

/** Returns `options.leewaySeconds`, or the default when absent. Throws a RangeError for a negative leeway. */
export function leewayOf(options: Pick<VerifyIdentityOptions, 'leewaySeconds'>): number {
  const leeway = options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS;
  if (!Number.isFinite(leeway) || leeway < 0) {
    throw new RangeError(`invalid leeway ${leeway}: expected a non-negative number of seconds`);
  }
  return leeway;
}

/**
 * Does the work of `verifyIdentity` and also returns the key id and key, for the messages of later
 * checks and for a cache of verified tokens.
 */
export async function verifyToken(token: string, options: VerifyIdentityOptions): Promise<VerifiedToken> {
  const leeway = leewayOf(options);

  const jws = parseCompactJws(token);
  const keyId = checkHeader(jws.header);
  const payload = parsePayload(jws.payload);
  const key = await options.key(keyId, payload);
  if (key === null) {
    throw new IdentityError('KEY_UNKNOWN', `invalid workload identity: no root key ${keyId} in the keyring`, {
      keyId,
    });
  }
  if (key.publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`cannot verify with key ${keyId}: expected an Ed25519 public key`);
  }

  const signatureValid =
    jws.signature.length === ED25519_SIGNATURE_BYTES &&
    verify(null, Buffer.from(jws.signingInput, 'latin1'), key.publicKey, jws.signature);
  if (!signatureValid) {
    throw new IdentityError(
      'SIGNATURE_INVALID',
      `invalid workload identity: signature does not verify with root key ${keyId}`,
      { keyId },
    );
  }

  if (payload === null) {
    throw new IdentityError('CLAIMS_INVALID', 'invalid workload identity: payload is not a JSON object', {
      keyId,
    });
  }
  const claims = readClaims(payload, keyId);
  checkTimeClaims(claims, options.now, leeway, keyId);
  return { claims, keyId, key };
}
