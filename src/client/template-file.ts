import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';

/** Mode of a rendered template, as Nomad's default `perms`. */
export const TEMPLATE_FILE_MODE = 0o644;
/** Mode of a rendered template inside the task's secrets folder: owner only, as the tokens there. */
export const TEMPLATE_SECRET_FILE_MODE = 0o600;
/** Mode of folders that a destination needs and that do not exist yet. */
const TEMPLATE_DIR_MODE = 0o755;

/** Rejection of a destination that leaves the task folder, or whose path crosses something that is not a real folder. */
export class TemplateDestinationError extends Error {
  override readonly name = 'TemplateDestinationError';
  readonly destination: string;

  constructor(destination: string, message: string) {
    super(message);
    this.destination = destination;
  }
}

/** A destination resolved inside a task folder. */
export interface TemplateTarget {
  /** Absolute path of the file. */
  readonly path: string;
  /** Path relative to the task folder, with `/` separators, for messages. */
  readonly relativePath: string;
  readonly mode: number;
}

/**
 * Resolves a template's DestPath inside the task folder. As in Nomad, the destination is relative
 * to the task folder even when it starts with `/`. A destination that leaves the task folder,
 * or is the folder itself, is rejected. The file is 0600 when it is inside `secrets/`, else 0644.
 */
export function resolveTemplateTarget(taskDir: string, destination: string): TemplateTarget {
  const relativePath = posix.normalize(posix.join('/', destination)).slice(1);
  const resolved = posix.normalize(destination.replace(/^\/+/, ''));
  // The two normalisations differ only when `..` climbs above the task folder.
  const escapes = resolved !== relativePath;
  if (escapes || relativePath === '' || relativePath.endsWith('/') || destination.includes('\0')) {
    throw new TemplateDestinationError(
      destination,
      `invalid template destination ${JSON.stringify(destination)}: it must name a file inside the task folder`,
    );
  }
  const path = join(taskDir, ...relativePath.split('/'));
  const inSecrets = relativePath === 'secrets' || relativePath.startsWith('secrets/');
  return { path, relativePath, mode: inSecrets ? TEMPLATE_SECRET_FILE_MODE : TEMPLATE_FILE_MODE };
}

/**
 * Writes a rendered template to its target, replacing what is there. The task can write to its
 * own folder, so nothing it left on the way is followed. Every folder from the task folder down to
 * the file must be a real folder, checked with lstat and created when missing. The content goes to
 * a new file created with O_EXCL and O_NOFOLLOW, which is renamed over the target, so a symlink at
 * the target is replaced itself and its target is left alone.
 *
 * NOTE: the checks and the writes are separate system calls, so a process of the client's user
 * can swap a folder for a symlink between them. Node has no openat to close that gap.
 */
export async function writeTemplateFile(
  taskDir: string,
  target: TemplateTarget,
  content: string,
): Promise<void> {
  await ensureFolders(taskDir, dirname(target.path), target.relativePath);
  const folder = dirname(target.path);
  const temporary = join(folder, `.signet-template.${randomBytes(6).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const handle = await open(temporary, flags, target.mode);
  try {
    try {
      // The umask may have removed bits from the mode given to open.
      await handle.chmod(target.mode);
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    await rename(temporary, target.path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
}

/**
 * Returns the content of the target when it is a regular file (not a symlink), else null. A
 * restarted client compares a new render with it, to apply the change mode only for a real change.
 */
export async function readTemplateFile(target: TemplateTarget): Promise<string | null> {
  try {
    const stats = await lstat(target.path);
    if (!stats.isFile()) return null;
    const handle = await open(target.path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await readFile(handle, 'utf8');
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return null;
    throw err;
  }
}

/** Checks every folder from `taskDir` down to `folder` with lstat, and creates the missing ones. */
async function ensureFolders(taskDir: string, folder: string, destination: string): Promise<void> {
  const parts = relative(taskDir, folder)
    .split(sep)
    .filter((part) => part !== '');
  let current = taskDir;
  for (const part of ['', ...parts]) {
    current = part === '' ? current : join(current, part);
    try {
      const stats = await lstat(current);
      if (!stats.isDirectory()) {
        throw new TemplateDestinationError(
          destination,
          `cannot write template ${JSON.stringify(destination)}: ${current} is not a folder`,
        );
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(current, { mode: TEMPLATE_DIR_MODE });
    }
  }
}
