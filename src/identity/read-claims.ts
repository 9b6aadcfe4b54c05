import type { IdentityClaims } from './claims.js';
import { IdentityError } from './errors.js';

/** Claims that every Signet identity carries, as non-empty strings. */
const REQUIRED_STRING_CLAIMS = [
  'nomad_namespace',
  'nomad_job_id',
  'nomad_allocation_id',
  'nomad_task',
  'sub',
  'jti',
] as const;

/** Allocation ids as the state store accepts them, so that only such a value is copied into an error. */
const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Checks the payload of a verified token and returns its claims, without any claim that Signet
 * does not define. `exp` and `iss` may be absent, and a present one must have the right type.
 * Throws an IdentityError with code CLAIMS_INVALID that names the claim.
 */
export function readClaims(payload: Readonly<Record<string, unknown>>, keyId: string): IdentityClaims {
  const allocationId =
    typeof payload.nomad_allocation_id === 'string' && ID_PATTERN.test(payload.nomad_allocation_id)
      ? payload.nomad_allocation_id
      : '';
  const invalid = (claim: string, expected: string): IdentityError =>
    new IdentityError('CLAIMS_INVALID', `invalid workload identity: claim ${claim} must be ${expected}`, {
      keyId,
      allocationId,
    });

  for (const claim of REQUIRED_STRING_CLAIMS) {
    if (!isNonEmptyString(payload[claim])) throw invalid(claim, 'a non-empty string');
  }
  if (!isNumericDate(payload.iat)) throw invalid('iat', 'a number of seconds');
  if (!isNumericDate(payload.nbf)) throw invalid('nbf', 'a number of seconds');
  const { aud, exp, iss } = payload;
  if (!Array.isArray(aud) || !aud.every((item) => typeof item === 'string')) {
    throw invalid('aud', 'an array of strings');
  }
  if (exp !== undefined && !isNumericDate(exp)) throw invalid('exp', 'a number of seconds when present');
  if (iss !== undefined && typeof iss !== 'string') throw invalid('iss', 'a string when present');

  const claims: { -readonly [K in keyof IdentityClaims]: IdentityClaims[K] } = {
    nomad_namespace: payload.nomad_namespace as string,
    nomad_job_id: payload.nomad_job_id as string,
    nomad_allocation_id: payload.nomad_allocation_id as string,
    nomad_task: payload.nomad_task as string,
    aud: [...(aud as string[])],
    sub: payload.sub as string,
    jti: payload.jti as string,
    iat: payload.iat,
    nbf: payload.nbf,
  };
  if (exp !== undefined) claims.exp = exp;
  if (iss !== undefined) claims.iss = iss;
  return claims;
}
