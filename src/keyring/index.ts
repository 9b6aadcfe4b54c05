export { KeyringError, type KeyringErrorCode } from './errors.js';
export { type Ed25519PublicJwk, type JsonWebKeySet, jwks, publicJwk } from './jwks.js';
export {
  generateRootKey,
  ROOT_KEY_ALGORITHM,
  ROOT_KEY_BYTES,
  type RootKey,
  type RootKeyMeta,
  type RootKeyState,
} from './root-key.js';
export { deriveSigningKey, type SigningKey, SigningKeyCache } from './signing-key.js';
export {
  CIPHERTEXT_OVERHEAD_BYTES,
  decryptItems,
  encryptItems,
  type VariableItems,
} from './variable-crypto.js';
export { keyEncryptionKey, unwrapRootKey, WRAPPED_ROOT_KEY_BYTES, wrapRootKey } from './wrap.js';
