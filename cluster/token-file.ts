import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../src/raft/storage/snapshot-file.js';

/** Mode of the token file: owner only, because it contains a management token's secret. */
export const TOKEN_FILE_MODE = 0o600;

/**
 * Returns the secret in `file`, or null when the file is missing or empty. An existing file with
 * another mode than TOKEN_FILE_MODE is set to it first, because a mode given when the file is
 * created never applies to a file that is already there.
 */
export async function readTokenFile(file: string): Promise<string | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    if (((await handle.stat()).mode & 0o777) !== TOKEN_FILE_MODE) await handle.chmod(TOKEN_FILE_MODE);
    const text = (await handle.readFile('utf8')).trim();
    return text === '' ? null : text;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `secret` to `file` so that it survives a power loss: into a temporary file with
 * TOKEN_FILE_MODE, synced, renamed over `file`, and then the folder is synced. Once it resolves,
 * a crash leaves the whole secret in `file`, never an empty or partly written file.
 */
export async function writeTokenFile(file: string, secret: string): Promise<void> {
  // One name for every attempt, so that a temporary file left by a crash is overwritten, not piled up.
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', TOKEN_FILE_MODE);
  try {
    // A temporary file left by an earlier run keeps its mode, and the umask may clear bits, so set it exactly.
    await handle.chmod(TOKEN_FILE_MODE);
    await handle.writeFile(`${secret}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  await syncDirectory(dirname(file));
}
