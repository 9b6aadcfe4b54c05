import { randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** The client node's identity: the servers know the node by ID and authenticate it by SecretID. */
export interface NodeIdentity {
  readonly ID: string;
  /** Secret: never log it. */
  readonly SecretID: string;
}

/** Paths of the client agent inside data_dir, as Nomad lays out its `client/` and `alloc/` folders. */
export interface ClientPaths {
  /** `DATA_DIR/client/node.json`: the node identity. */
  readonly nodeFile: string;
  /** `DATA_DIR/client/allocs/`: one state file per allocation that this client runs or ran. */
  readonly allocStateDir: string;
  /** `DATA_DIR/alloc/`: the allocation folders that tasks see. */
  readonly allocRoot: string;
}

export function clientPaths(dataDir: string): ClientPaths {
  return {
    nodeFile: join(dataDir, 'client', 'node.json'),
    allocStateDir: join(dataDir, 'client', 'allocs'),
    allocRoot: join(dataDir, 'alloc'),
  };
}

/** Sets a folder to 0700 when group or others have any access to it. */
async function narrowFolder(dir: string): Promise<void> {
  if (((await stat(dir)).mode & 0o077) !== 0) await chmod(dir, 0o700);
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the node identity from `file`, or creates one on first start and makes it durable before
 * the node registers. A restarted client is therefore the same node to the servers, and keeps its
 * allocations. The file contains the secret, so it is created owner-only (0600), and a file found
 * with wider permissions is narrowed to 0600. Its folder (`DATA_DIR/client`, which also contains the
 * allocations' state with their identity tokens) is likewise created or narrowed to 0700.
 */
export async function loadOrCreateNodeIdentity(
  file: string,
): Promise<{ identity: NodeIdentity; created: boolean }> {
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) {
    const identity = parseIdentity(text, file);
    if (((await stat(file)).mode & 0o077) !== 0) await chmod(file, 0o600);
    await narrowFolder(dirname(file));
    return { identity, created: false };
  }

  const identity: NodeIdentity = { ID: randomUUID(), SecretID: randomUUID() };
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // mkdir sets the mode only on the folders it creates.
  await narrowFolder(dirname(file));
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(identity, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const folder = await open(dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return { identity, created: true };
}

function parseIdentity(text: string, file: string): NodeIdentity {
  const fail = (what: string): Error =>
    new Error(
      `invalid node identity in ${file}: ${what}; restore the file from a backup, or remove it so the client registers as a new node`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw fail('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw fail('expected an object with ID and SecretID');
  const { ID, SecretID } = value as Record<string, unknown>;
  if (typeof ID !== 'string' || !UUID_PATTERN.test(ID)) throw fail('ID must be a UUID');
  // The secret is never repeated in the message.
  if (typeof SecretID !== 'string' || !UUID_PATTERN.test(SecretID)) throw fail('SecretID must be a UUID');
  return { ID, SecretID };
}
