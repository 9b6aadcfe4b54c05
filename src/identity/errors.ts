/** Codes of workload identity failures, which callers switch on. */
export type IdentityErrorCode =
  /** Not a compact JWS: wrong number of parts, bad base64url, a header that is not a JSON object, too long. */
  | 'TOKEN_MALFORMED'
  /** The header's `alg` is not `EdDSA`. Checked before any key lookup, so `none` and HMAC never reach a key. */
  | 'ALGORITHM_NOT_ALLOWED'
  /** The header has no `kid`, so no root key can be chosen. */
  | 'KEY_ID_MISSING'
  /** No root key with the header's `kid` is in this server's keyring. */
  | 'KEY_UNKNOWN'
  /** The signature does not match the header and payload under the key's public key. */
  | 'SIGNATURE_INVALID'
  /** `nbf` is later than now plus the leeway. */
  | 'TOKEN_NOT_YET_VALID'
  /** `exp` is earlier than now minus the leeway. */
  | 'TOKEN_EXPIRED'
  /** `iat` is later than now plus the leeway. */
  | 'TOKEN_ISSUED_IN_FUTURE'
  /** The payload is not a JSON object, or a required claim is missing or of the wrong type. */
  | 'CLAIMS_INVALID'
  /** The claims name an allocation that is not in this server's state. */
  | 'ALLOCATION_NOT_FOUND'
  /** The allocation's client status is complete, failed or lost. */
  | 'ALLOCATION_TERMINAL'
  /** The claims name a namespace, job or task that the allocation does not have. */
  | 'CLAIMS_MISMATCH'
  /** Signing: an allocation's job is not in state, so its tasks are unknown. */
  | 'JOB_NOT_FOUND'
  /** Signing: an allocation's task group is not in its job. */
  | 'TASK_GROUP_NOT_FOUND';

/**
 * A token that failed verification, or an allocation that could not be signed. The message never
 * contains the token or key material; it may name the key id, the allocation id and claim names.
 */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly code: IdentityErrorCode;
  /** Root key id from the token's header, or '' when the failure came before the header was read. */
  readonly keyId: string;
  /** Allocation id the failure is about, or '' when it came before the claims were read. */
  readonly allocationId: string;

  constructor(
    code: IdentityErrorCode,
    message: string,
    ids: { readonly keyId?: string; readonly allocationId?: string } = {},
  ) {
    super(message);
    this.code = code;
    this.keyId = ids.keyId ?? '';
    this.allocationId = ids.allocationId ?? '';
  }
}
