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
  | 'UNWRAP_FAILED'
  /** A variable's `Data` is not base64, or too short to hold a nonce and a GCM tag. */
  | 'CIPHERTEXT_INVALID'
  /**
   * A variable's GCM tag check failed: the root key is not the one that encrypted it, or the bytes
   * were altered or copied from another key id.
   */
  | 'DECRYPT_FAILED'
  /** Decrypted variable data is not a JSON object of strings, which only a faulty writer produces. */
  | 'ITEMS_INVALID';

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
