import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  deriveSigningKey,
  keyEncryptionKey,
  type SigningKey,
  unwrapRootKey,
} from '../../src/keyring/index.js';
import { LevelStorage } from '../../src/raft/storage/level.js';
import { decodeClusterKey } from '../../src/rpc/cluster-key.js';
import { serverPaths } from '../../src/server/server-id.js';
import { StateStore } from '../../src/state/store.js';

/**
 * Rebuilds the replicated state of a server that is not running from its data folder: the
 * snapshot, then every stored entry after it, as the server does when it starts.
 */
export async function readStoppedServerState(dataDir: string): Promise<StateStore> {
  const storage = await LevelStorage.open(serverPaths(dataDir).raftDir);
  try {
    const durable = await storage.load();
    const store = new StateStore();
    if (durable.snapshot !== null) store.restore(durable.snapshot.data);
    for (const entry of durable.entries) {
      if (entry.index <= store.latestIndex) continue;
      if (entry.kind === 'command') store.apply(entry.index, entry.data);
      else store.advanceTo(entry.index);
    }
    return store;
  } finally {
    await storage.close();
  }
}

/**
 * Unwraps root key `keyId` from a stopped server's state with the cluster key, as a test that
 * knows the cluster key may. Returns the plaintext material too, so that tests can search for it.
 */
export function unwrapStoredKey(
  store: StateStore,
  clusterKey: string,
  keyId: string,
): { material: Buffer; signing: SigningKey; wrapped: Buffer } {
  const row = store.rootKey(keyId);
  if (row === null) throw new Error(`root key ${keyId} is not in the stopped server's state`);
  const wrapped = Buffer.from(row.WrappedKey, 'base64');
  const material = unwrapRootKey(keyEncryptionKey(decodeClusterKey(clusterKey)), keyId, wrapped);
  return { material, signing: deriveSigningKey(keyId, material), wrapped };
}

/** Reads every regular file under `dir`, recursively, with its bytes. */
export async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const files: { path: string; bytes: Buffer }[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await stat(path);
    if (info.isDirectory()) files.push(...(await filesUnder(path)));
    else if (info.isFile()) files.push({ path, bytes: await readFile(path) });
  }
  return files;
}
