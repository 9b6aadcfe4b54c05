import { generateRootKey, type RootKeyMeta, wrapRootKey } from '../../keyring/index.js';
import type { RootKeyCommand } from '../../state/root-key-commands.js';
import type { DemotedState } from '../../state/root-keys.js';

export type RootKeyUpsert = Extract<RootKeyCommand, { type: 'root-key-upsert' }>;

/**
 * Generates a root key and returns the `root-key-upsert` command that makes it the active key,
 * with the material wrapped under `kek`. The plaintext is zeroed before this returns, so only the
 * wrapped form ever leaves this function. Any server can build the command, because every server
 * derives the same key-encryption key from `server.encrypt`.
 */
export function newRootKeyCommand(
  kek: Buffer,
  nowMs: number,
  demoteTo: DemotedState,
): { command: RootKeyUpsert; meta: RootKeyMeta } {
  const { meta, material } = generateRootKey(nowMs * 1_000_000);
  try {
    const wrapped = wrapRootKey(kek, meta.KeyID, material);
    const command: RootKeyUpsert = {
      type: 'root-key-upsert',
      v: 2,
      key: { KeyID: meta.KeyID, Algorithm: meta.Algorithm, CreateTime: meta.CreateTime },
      wrappedKey: Buffer.from(wrapped).toString('base64'),
      demoteTo,
    };
    return { command, meta };
  } finally {
    material.fill(0);
  }
}
