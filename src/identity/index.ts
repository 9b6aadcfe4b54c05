export {
  DEFAULT_AUDIENCE,
  DEFAULT_IDENTITY,
  DEFAULT_IDENTITY_NAME,
  type IdentityClaims,
  type IdentityClaimsInput,
  identityClaims,
  taskIdentity,
} from './claims.js';
export { MAX_TOKEN_LENGTH } from './compact-jws.js';
export { IdentityError, type IdentityErrorCode } from './errors.js';
export { signIdentity } from './sign.js';
export { SIGNING_CHUNK_MS, type SignAllocationsContext, signAllocations } from './sign-allocations.js';
export { DEFAULT_LEEWAY_SECONDS, type VerifyIdentityOptions, verifyIdentity } from './verify.js';
export {
  type VerifiedWorkload,
  type VerifyWorkloadIdentityOptions,
  verifyWorkloadIdentity,
} from './verify-workload.js';
