/** Codes of keyring failures, which callers switch on. */
export type KeyringErrorCode =
  /** Root key material is not exactly 32 bytes. */
  | 'KEY_MATERIAL_INVALID'
  /** A wrapped root key has the wrong length, so it is truncated or not a wrapped key at all. */
  | 'WRAPPED_KEY_INVALID'
  /**
   * The AES-GCM tag check failed. The usual cause is a cluster key (`server.encrypt`) that
   * differs from the one that wrapped the key. Altered bytes, or bytes stored under another key
   * id, fail the same check.
   */
  | 'UNWRAP_FAILED';

/** A keyring failure. The message never contains key material or the cluster key. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
  readonly code: KeyringErrorCode;
  /** Root key id the error is about, or ''. */
  readonly keyId: string;

  constructor(code: KeyringErrorCode, keyId: string, message: string) {
    super(message);
    this.code = code;
    this.keyId = keyId;
  }
}
