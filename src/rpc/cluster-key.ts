import { hkdfSync, randomBytes } from 'node:crypto';

/** Length of the cluster key (`server.encrypt`) in bytes. */
export const CLUSTER_KEY_BYTES = 32;

/** Returns a fresh cluster key in base64, the form `server.encrypt` takes. */
export function generateClusterKey(): string {
  return randomBytes(CLUSTER_KEY_BYTES).toString('base64');
}

/**
 * Decodes `server.encrypt`. Throws when it is not exactly 32 bytes of canonical base64; the
 * message never contains the key, because it is a secret.
 */
export function decodeClusterKey(encoded: string): Buffer {
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== CLUSTER_KEY_BYTES || key.toString('base64') !== encoded) {
    throw new Error(
      `invalid cluster key: expected ${CLUSTER_KEY_BYTES} bytes in base64 (44 characters, as signet operator keygen prints)`,
    );
  }
  return key;
}

/**
 * Derives a key for one purpose from the cluster key with HKDF-SHA256. Each use (the RPC
 * handshake, wrapping the keyring) has its own label, so a key learnt from one use is useless for
 * the others and the cluster key itself is never used directly.
 */
export function deriveKey(clusterKey: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), `signet ${label}`, 32));
}
