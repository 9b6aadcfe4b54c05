import { readFileSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** File in the cluster root that names the pid of the launcher using the folder. */
export const LOCK_FILE = 'launcher.lock';

/** Raised when another live launcher has locked the cluster folder. */
export class FolderBusyError extends Error {
  override readonly name = 'FolderBusyError';
  readonly code = 'FOLDER_BUSY';
  readonly pid: number;

  constructor(root: string, pid: number) {
    super(
      `${root} is in use by the launcher with pid ${pid}; stop it (Ctrl-C in its terminal, or kill ${pid}) or choose another -data folder`,
    );
    this.pid = pid;
  }
}

/**
 * The launcher's exclusive hold on a cluster folder: `<root>/launcher.lock`, created with O_EXCL
 * and holding the owner's pid. A lock whose pid no longer runs is left by a launcher that was
 * SIGKILLed, and is taken over. Two launchers on one folder would start two client agents with one
 * node identity, and every task would run twice.
 */
export class FolderLock {
  readonly path: string;
  #held = true;
  readonly #releaseOnExit = () => this.releaseSync();

  private constructor(path: string) {
    this.path = path;
    process.once('exit', this.#releaseOnExit);
  }

  /** Takes the lock of `root`, or raises FolderBusyError when a live process has it. */
  static async acquire(root: string): Promise<FolderLock> {
    const path = join(root, LOCK_FILE);
    // Two attempts: the second follows the removal of a lock whose owner is gone. When another
    // launcher takes it over in between, the second attempt raises FolderBusyError for it.
    for (let attempt = 1; ; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o644);
        try {
          await handle.writeFile(`${process.pid}\n`);
        } finally {
          await handle.close();
        }
        return new FolderLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) {
          if ((err as NodeJS.ErrnoException).code === 'EEXIST')
            throw new FolderBusyError(root, ownerPid(path) ?? 0);
          throw new Error(`cannot lock ${path}: ${(err as Error).message}`);
        }
      }
      const owner = ownerPid(path);
      // An empty or unreadable pid is a launcher that died between create and write.
      if (owner !== null && processRuns(owner)) throw new FolderBusyError(root, owner);
      await rm(path, { force: true });
    }
  }

  /** Removes the lock file; safe to call twice. */
  async release(): Promise<void> {
    if (!this.#held) return;
    this.#held = false;
    process.off('exit', this.#releaseOnExit);
    await rm(this.path, { force: true });
  }

  /** Removes the lock file synchronously, for a process 'exit' handler. */
  releaseSync(): void {
    if (!this.#held) return;
    this.#held = false;
    process.off('exit', this.#releaseOnExit);
    rmSync(this.path, { force: true });
  }
}

/** Reads the pid in the lock file, or null when the file is missing or contains no pid. */
function ownerPid(path: string): number | null {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** Returns true when `pid` runs and, where /proc is readable, is a Node.js process like the launcher. */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // After a reboot the pid may belong to an unrelated program, which must not block the folder.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(basename(process.execPath));
  } catch {
    return true;
  }
}
