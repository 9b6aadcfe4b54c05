import { randomBytes, randomUUID } from 'node:crypto';

/** Length of a root key's material in bytes (an AES-256 key). */
export const ROOT_KEY_BYTES = 32;

/** The only root key algorithm, as Nomad names it. */
export const ROOT_KEY_ALGORITHM = 'aes256-gcm';

/**
 * Lifecycle state of a root key. The `active` key signs new tokens and the others only verify
 * them. `rekeying` marks a key whose data is being re-encrypted under the active key, and
 * `deprecated` is a legacy state that Nomad treats as `inactive`.
 */
export type RootKeyState = 'active' | 'inactive' | 'rekeying' | 'deprecated';

/** Metadata of a root key: what Raft, the API and the CLI show, never the material. */
export interface RootKeyMeta {
  /** UUID, also the `kid` of every token signed with this key. */
  readonly KeyID: string;
  readonly Algorithm: typeof ROOT_KEY_ALGORITHM;
  /** Unix time in nanoseconds, set at creation and kept on every update. */
  readonly CreateTime: number;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly State: RootKeyState;
}

/** A root key with its plaintext material, which stays in memory: only the wrapped form is stored or sent. */
export interface RootKey {
  readonly meta: RootKeyMeta;
  readonly material: Buffer;
}

/**
 * Generates a new active root key with 32 random bytes of material. `nowNs` is the Unix time in
 * nanoseconds. The Raft indexes stay 0 until the state store applies the key.
 */
export function generateRootKey(nowNs: number): RootKey {
  const meta: RootKeyMeta = {
    KeyID: randomUUID(),
    Algorithm: ROOT_KEY_ALGORITHM,
    CreateTime: nowNs,
    CreateIndex: 0,
    ModifyIndex: 0,
    State: 'active',
  };
  return { meta, material: randomBytes(ROOT_KEY_BYTES) };
}
