import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Lock file of a client's data_dir, inside its owner-only `client/` folder. */
export const CLIENT_LOCK_FILE = join('client', 'agent.lock');

/** Raised when a live process holds the lock of the client's data_dir. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_LOCKED';
  readonly dataDir: string;
  /** Pid recorded in the lock file, or 0 when the file is unreadable. */
  readonly pid: number;

  constructor(dataDir: string, pid: number) {
    super(
      pid === 0
        ? `data_dir ${dataDir} has an unreadable lock file ${join(dataDir, CLIENT_LOCK_FILE)}; check that no client agent uses the data_dir, then remove the file`
        : `data_dir ${dataDir} is in use by the client agent with pid ${pid}; stop that agent or use another data_dir`,
    );
    this.dataDir = dataDir;
    this.pid = pid;
  }
}

/** Contents of a lock file: the owner's pid, and the boot it ran in, where the OS reports one. */
interface LockOwner {
  readonly pid: number;
  readonly bootId: string | null;
}

/**
 * The client agent's exclusive hold on its data_dir. Two agents on one data_dir are one node to
 * the servers, so each would run every allocation and overwrite the other's task records.
 *
 * The lock is the file `DATA_DIR/client/agent.lock` with the owner's pid and the Linux boot id.
 * It is created complete: written to a private file first and linked into place, and link() fails
 * when the name exists, as O_EXCL does. A lock is stale, and taken over, when its pid no longer
 * runs or it names another boot (a crash and a reboot, after which the pid may belong to another
 * program). The stale file is renamed aside and removed only when it is the same inode that was
 * judged stale, so two agents that take over at once cannot both remove each other's new lock.
 *
 * NOTE: the pid check covers only this pid namespace. Agents in two containers that share one
 * data_dir take each other's locks for stale ones.
 */
export class ClientDataDirLock {
  readonly path: string;
  #held = true;
  readonly #releaseOnExit = (): void => this.releaseSync();

  private constructor(path: string) {
    this.path = path;
    // process.exit() skips close(), and a SIGKILL skips both: the next agent takes over then.
    process.once('exit', this.#releaseOnExit);
  }

  /** Takes the lock of `dataDir`, or raises DataDirLockedError while a live process holds it. */
  static async acquire(dataDir: string): Promise<ClientDataDirLock> {
    const path = join(dataDir, CLIENT_LOCK_FILE);
    await mkdir(join(dataDir, 'client'), { recursive: true, mode: 0o700 });
    const owner: LockOwner = { pid: process.pid, bootId: currentBootId() };
    const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(draft, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    try {
      // Three rounds: each failed round removed one stale lock, and a live owner ends the loop.
      for (let round = 0; round < 3; round++) {
        try {
          await link(draft, path);
          return new ClientDataDirLock(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        await removeStaleLock(path, dataDir);
      }
      throw new DataDirLockedError(dataDir, readOwner(path)?.pid ?? 0);
    } finally {
      await unlink(draft).catch(() => undefined);
    }
  }

  /** Removes the lock file when this process still owns it; safe to call twice. */
  releaseSync(): void {
    if (!this.#held) return;
    this.#held = false;
    process.off('exit', this.#releaseOnExit);
    if (readOwner(this.path)?.pid !== process.pid) return;
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Removes the lock at `path` when its owner is gone, or raises DataDirLockedError. Returns
 * without a change when the file vanished or was replaced meanwhile, so the caller tries again.
 */
async function removeStaleLock(path: string, dataDir: string): Promise<void> {
  let inode: number;
  try {
    inode = (await stat(path)).ino;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const owner = readOwner(path);
  // A lock file is written complete before it is linked, so an unreadable one is damaged, and
  // its owner cannot be known: the operator must check and remove it.
  if (owner === null) throw new DataDirLockedError(dataDir, 0);
  if (ownerRuns(owner)) throw new DataDirLockedError(dataDir, owner.pid);

  const aside = `${path}.${process.pid}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((await stat(aside)).ino === inode) {
    await unlink(aside);
    return;
  }
  // Another agent replaced the stale lock between the check and the rename: put its lock back.
  // link() fails when a third agent has taken the name meanwhile, and that agent owns the lock then.
  await link(aside, path).catch(() => undefined);
  await unlink(aside);
  throw new DataDirLockedError(dataDir, readOwner(path)?.pid ?? 0);
}

function readOwner(path: string): LockOwner | null {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { pid, bootId } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return null;
  return { pid, bootId: typeof bootId === 'string' ? bootId : null };
}

function ownerRuns(owner: LockOwner): boolean {
  const bootId = currentBootId();
  if (owner.bootId !== null && bootId !== null && owner.bootId !== bootId) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the pid runs, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Returns the Linux boot id, which changes at every boot, or null on other systems. */
function currentBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}
