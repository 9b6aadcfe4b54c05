import { randomUUID } from 'node:crypto';
import { ACL_POLICY_NAME_PATTERN } from '../../state/acl-fields.js';
import { ACL_TOKEN_TYPES, MAX_TOKEN_NAME_BYTES } from '../../state/acl-tokens.js';
import { MAX_TOKEN_POLICIES } from '../../state/limits.js';
import type { AclToken, AclTokenType } from '../../state/store.js';
import { unixNanosToMs } from '../../structs/unix-nanos.js';
import { RequestError } from '../request-error.js';

/** Nomad's default `token_min_expiration_ttl`: the shortest lifetime a new token may ask for. */
export const MIN_TOKEN_EXPIRATION_TTL_MS = 60_000;
/** Nomad's default `token_max_expiration_ttl`: the longest lifetime a new token may ask for. */
export const MAX_TOKEN_EXPIRATION_TTL_MS = 24 * 3_600_000;

const NS_PER_MS = 1_000_000;

/** A token to create or update, as a client sends it. */
export interface AclTokenRequest {
  readonly name: string;
  /** `client` or `management`; anything else is rejected. */
  readonly type: string;
  readonly policies: readonly string[];
  /** Null when the client left it out: false on create, the stored value on update. */
  readonly global: boolean | null;
  /** Lifetime in milliseconds from now, or null. Only on create. */
  readonly expirationTtlMs: number | null;
  /** Unix nanoseconds at which the token expires, or null. Only on create, and not with a TTL. */
  readonly expirationTime: number | null;
}

export interface TokenExpirationLimits {
  readonly minTtlMs: number;
  readonly maxTtlMs: number;
}

export const DEFAULT_TOKEN_EXPIRATION_LIMITS: TokenExpirationLimits = {
  minTtlMs: MIN_TOKEN_EXPIRATION_TTL_MS,
  maxTtlMs: MAX_TOKEN_EXPIRATION_TTL_MS,
};

/**
 * Builds a new token from a request, with a random AccessorID and SecretID and CreateTime `nowMs`.
 * Throws RequestError 400 with Nomad's message fragments for an invalid request.
 */
export function newAclToken(
  request: AclTokenRequest,
  nowMs: number,
  limits: TokenExpirationLimits,
): AclToken {
  const type = checkType(request.type);
  const policies = checkPolicies(type, request.policies);
  checkName(request.name);
  const createTime = nowMs * NS_PER_MS;
  return {
    AccessorID: randomUUID(),
    SecretID: randomUUID(),
    Name: request.name,
    Type: type,
    Policies: policies,
    Global: request.global ?? false,
    CreateTime: createTime,
    ExpirationTime: expirationTime(request, nowMs, limits),
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

/**
 * Applies an update request to a stored token. Name, Type and Policies change. The SecretID,
 * CreateTime, Global and expiration are fixed at creation and copied, and a request that tries to
 * change Global or the expiration is rejected with 400, as Nomad rejects it.
 */
export function updatedAclToken(existing: AclToken, request: AclTokenRequest): AclToken {
  const type = checkType(request.type);
  const policies = checkPolicies(type, request.policies);
  checkName(request.name);
  if (request.global !== null && request.global !== existing.Global) {
    throw new RequestError(400, `cannot toggle the Global value of ACL token ${existing.AccessorID}`);
  }
  if (request.expirationTtlMs !== null && request.expirationTtlMs !== 0) {
    throw new RequestError(
      400,
      `cannot set ExpirationTTL when updating ACL token ${existing.AccessorID}: the expiration is fixed at creation`,
    );
  }
  // Compared in whole milliseconds, because the API sends times as RFC 3339 strings that clients
  // parse with millisecond precision, and sending a token back unchanged must not fail.
  if (
    request.expirationTime !== null &&
    wholeMs(request.expirationTime) !== wholeMs(existing.ExpirationTime)
  ) {
    throw new RequestError(
      400,
      `cannot change the ExpirationTime of ACL token ${existing.AccessorID}: the expiration is fixed at creation`,
    );
  }
  return { ...existing, Name: request.name, Type: type, Policies: policies };
}

function wholeMs(nanos: number | null): number | null {
  return nanos === null ? null : unixNanosToMs(nanos);
}

function checkType(type: string): AclTokenType {
  const known = ACL_TOKEN_TYPES.find((candidate) => candidate === type);
  if (known === undefined) {
    throw new RequestError(
      400,
      `token type must be client or management, got ${JSON.stringify(type.slice(0, 40))}`,
    );
  }
  return known;
}

/** Checks the policy names for the token type and drops repeated names. */
function checkPolicies(type: AclTokenType, names: readonly string[]): string[] {
  const unique = [...new Set(names)];
  if (type === 'management' && unique.length > 0) {
    throw new RequestError(400, 'management token cannot be associated with policies');
  }
  if (type === 'client' && unique.length === 0) {
    throw new RequestError(400, 'client token missing policies: name at least one policy');
  }
  if (unique.length > MAX_TOKEN_POLICIES) {
    throw new RequestError(
      400,
      `a token may name at most ${MAX_TOKEN_POLICIES} policies, got ${unique.length}`,
    );
  }
  for (const name of unique) {
    if (!ACL_POLICY_NAME_PATTERN.test(name)) {
      throw new RequestError(
        400,
        `invalid policy name ${JSON.stringify(name.slice(0, 160))}: expected 1 to 128 letters, digits or "-"`,
      );
    }
  }
  return unique;
}

function checkName(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_TOKEN_NAME_BYTES) {
    throw new RequestError(400, `token name too long: ${bytes} bytes, at most ${MAX_TOKEN_NAME_BYTES}`);
  }
}

/** Returns the ExpirationTime of a new token in Unix nanoseconds, or null for one that never expires. */
function expirationTime(
  request: AclTokenRequest,
  nowMs: number,
  limits: TokenExpirationLimits,
): number | null {
  const ttl = request.expirationTtlMs ?? 0;
  if (ttl !== 0 && request.expirationTime !== null) {
    throw new RequestError(400, 'cannot set both ExpirationTime and ExpirationTTL');
  }
  let lifetimeMs: number;
  if (ttl !== 0) lifetimeMs = ttl;
  else if (request.expirationTime !== null) lifetimeMs = request.expirationTime / NS_PER_MS - nowMs;
  else return null;

  if (lifetimeMs < limits.minTtlMs) {
    throw new RequestError(
      400,
      `expiration time cannot be less than ${goDuration(limits.minTtlMs)} in the future`,
    );
  }
  if (lifetimeMs > limits.maxTtlMs) {
    throw new RequestError(
      400,
      `expiration time cannot be more than ${goDuration(limits.maxTtlMs)} in the future`,
    );
  }
  return request.expirationTime ?? (nowMs + lifetimeMs) * NS_PER_MS;
}

/** Formats whole seconds as Go's Duration.String does (`1m0s`, `24h0m0s`), as Nomad's messages show them. */
function goDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}
