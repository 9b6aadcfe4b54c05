import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDirectory } from '../src/raft/storage/snapshot-file.js';

/** Mode of the token file: owner only, because it contains a management token's secret. */
export const TOKEN_FILE_MODE = 0o600;

/** A management token's secret: a UUID, as the servers require of a BootstrapSecret. */
const SECRET_FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Raised when the token file cannot be read or contains no secret. The message names the file. */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
  readonly code = 'TOKEN_FILE_INVALID';
  readonly file: string;

  constructor(file: string, problem: string) {
    super(
      `${file} ${problem}; put the management token's secret (a UUID) in it, or delete it when the cluster's ACLs were never bootstrapped`,
    );
    this.file = file;
  }
}

/**
 * Returns the secret in `file`, or null when the file is missing. An existing file with another
 * mode than TOKEN_FILE_MODE is set to it first, because a mode given when the file is created
 * never applies to a file that is already there. Raises TokenFileError for an unreadable file or
 * one whose content is not a UUID: no server would ever accept it, so retrying cannot help.
 */
export async function readTokenFile(file: string): Promise<string | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TokenFileError(file, `cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let text: string;
  try {
    if (!(await handle.stat()).isFile()) throw new TokenFileError(file, 'is not a regular file');
    if (((await handle.stat()).mode & 0o777) !== TOKEN_FILE_MODE) await handle.chmod(TOKEN_FILE_MODE);
    text = (await handle.readFile('utf8')).trim();
  } catch (err) {
    if (err instanceof TokenFileError) throw err;
    throw new TokenFileError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    await handle.close();
  }
  if (text === '') throw new TokenFileError(file, 'is empty');
  if (!SECRET_FORMAT.test(text))
    throw new TokenFileError(file, `does not contain a UUID (${text.length} characters)`);
  return text;
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
