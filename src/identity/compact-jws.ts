import { IdentityError } from './errors.js';

/**
 * Maximum token length, in characters. A default identity is about 600, and the state store
 * accepts stored tokens up to 16 KiB, so this bound only stops oversized input before any decoding.
 */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** Length of an Ed25519 signature in bytes (RFC 8032). */
export const ED25519_SIGNATURE_BYTES = 64;

const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;

/** A compact JWS split into its parts, with the header decoded and the rest left as bytes. */
export interface CompactJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Buffer;
  /** `HEADER.PAYLOAD` as it appears in the token: the bytes the signature covers. */
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Encodes a JSON value as one base64url part of a compact JWS. */
export function encodeJsonPart(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes base64url without padding, strictly: only the URL-safe alphabet, no length that no byte
 * string encodes to, and no stray bits in the last character. So each byte string has exactly one
 * accepted spelling. Returns null for anything else.
 */
function decodeBase64url(part: string): Buffer | null {
  if (!BASE64URL_ALPHABET.test(part) || part.length % 4 === 1) return null;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : null;
}

/** Parses JSON, or returns undefined. Parser messages quote the input, so they are never passed on. */
function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function malformed(problem: string): IdentityError {
  return new IdentityError('TOKEN_MALFORMED', `invalid workload identity: ${problem}`);
}

/**
 * Splits a compact JWS (RFC 7515 section 7.1) and decodes its header, which must be a JSON object.
 * The signature part may be empty, so that an unsecured (`alg: none`) token is rejected for its
 * algorithm rather than for its shape. Throws an IdentityError with code TOKEN_MALFORMED.
 */
export function parseCompactJws(token: unknown): CompactJws {
  if (typeof token !== 'string') throw malformed(`expected a string, got ${typeof token}`);
  if (token.length > MAX_TOKEN_LENGTH) {
    throw malformed(`token is ${token.length} characters long, the limit is ${MAX_TOKEN_LENGTH}`);
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw malformed(`expected 3 dot-separated parts, got ${parts.length}`);
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (headerPart === '' || payloadPart === '') throw malformed('header or payload part is empty');

  const headerBytes = decodeBase64url(headerPart);
  const payload = decodeBase64url(payloadPart);
  const signature = decodeBase64url(signaturePart);
  if (headerBytes === null) throw malformed('header part is not unpadded base64url');
  if (payload === null) throw malformed('payload part is not unpadded base64url');
  if (signature === null) throw malformed('signature part is not unpadded base64url');

  const header = parseJson(headerBytes);
  if (!isJsonObject(header)) throw malformed('header is not a JSON object');
  return { header, payload, signingInput: `${headerPart}.${payloadPart}`, signature };
}

/** Parses a verified payload as a JSON object, or returns null. */
export function parsePayload(payload: Buffer): Record<string, unknown> | null {
  const value = parseJson(payload);
  return isJsonObject(value) ? value : null;
}
