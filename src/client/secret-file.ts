import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Mode of a file that contains a secret: read and write for the owner only. */
export const SECRET_FILE_MODE = 0o600;

/** Thrown when a secret cannot be written safely. `path` is the file or folder at fault. */
export class SecretFileError extends Error {
  override readonly name = 'SecretFileError';
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * Writes `content` to `dir/name` with mode 0600, replacing any entry of that name. A task can write
 * to its own secrets folder, so whatever it left at `name` (a symlink to a file of the client's, a
 * file with wider permissions) must be neither followed nor reused. The content goes to a new file
 * in the same folder, created with O_EXCL and O_NOFOLLOW, and is renamed over `name`. The rename
 * replaces a symlink itself, never its target. `dir` is checked with lstat first and must be a
 * real folder. The file is not fsynced, because after a host crash the task would be started
 * again and the token written again.
 *
 * NOTE: the check of `dir` and the writes into it are separate system calls. A process that runs
 * as the client's user (a task of the same allocation) can swap `dir` for a symlink between them.
 * Node has no openat to close that gap, so tasks are not a security boundary against each other.
 */
export async function writeSecretFile(dir: string, name: string, content: string): Promise<void> {
  const stats = await lstat(dir);
  if (!stats.isDirectory()) {
    throw new SecretFileError(dir, `cannot write ${name}: ${dir} is not a folder`);
  }

  const target = join(dir, name);
  const temporary = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temporary, flags, SECRET_FILE_MODE);
  try {
    try {
      // The umask may have removed bits from the mode given to open.
      await handle.chmod(SECRET_FILE_MODE);
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}
