import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Folder modes. Tasks run as the client's user, so the folders need no access for others, except
 * the tmp folders, which are sticky and world-writable like /tmp. The secrets folder is owner-only
 * because it contains tokens.
 */
const DIR_MODE = 0o755;
const TMP_MODE = 0o1777;
const SECRETS_MODE = 0o700;

/** Paths of one task's folders inside its allocation folder. */
export interface TaskDirPaths {
  /** The task's root folder, DATA_DIR/alloc/ALLOC_ID/TASK; raw_exec runs the task there. */
  readonly dir: string;
  /** TASK/local, exposed as NOMAD_TASK_DIR. */
  readonly localDir: string;
  /** TASK/secrets, owner-only, exposed as NOMAD_SECRETS_DIR. */
  readonly secretsDir: string;
  readonly tmpDir: string;
  /** The allocation's shared folder (ALLOC_ID/alloc), exposed as NOMAD_ALLOC_DIR. */
  readonly sharedDir: string;
  /** ALLOC_ID/alloc/logs, where stdout and stderr of every task of the allocation go. */
  readonly logDir: string;
}

/** Thrown when a folder cannot be made safely; `path` names it. */
export class AllocDirError extends Error {
  override readonly name = 'AllocDirError';
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/**
 * The folders of one allocation, laid out as Nomad lays them out:
 *
 *     DATA_DIR/alloc/ALLOC_ID/alloc/{data,logs,tmp}     shared by the tasks of the allocation
 *     DATA_DIR/alloc/ALLOC_ID/TASK/{local,secrets,tmp}  one per task
 *
 * Building is idempotent, so a restarted client builds again over what it left. Modes are set with
 * chmod after mkdir so that the umask does not change them.
 */
export class AllocDir {
  readonly allocId: string;
  /** DATA_DIR/alloc/ALLOC_ID. */
  readonly dir: string;
  /** DATA_DIR/alloc/ALLOC_ID/alloc. */
  readonly sharedDir: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly tmpDir: string;
  readonly #allocsRoot: string;

  /** Throws AllocDirError when `allocId` cannot be a single folder name. */
  constructor(clientDataDir: string, allocId: string) {
    checkFolderName(allocId, 'allocation ID');
    this.allocId = allocId;
    this.#allocsRoot = join(clientDataDir, 'alloc');
    this.dir = join(this.#allocsRoot, allocId);
    this.sharedDir = join(this.dir, 'alloc');
    this.dataDir = join(this.sharedDir, 'data');
    this.logDir = join(this.sharedDir, 'logs');
    this.tmpDir = join(this.sharedDir, 'tmp');
  }

  /** Creates the allocation folder and its shared folders. */
  async build(): Promise<void> {
    await mkdir(this.#allocsRoot, { recursive: true, mode: DIR_MODE });
    await makeDir(this.dir, DIR_MODE);
    await makeDir(this.sharedDir, DIR_MODE);
    await makeDir(this.dataDir, DIR_MODE);
    await makeDir(this.logDir, DIR_MODE);
    await makeDir(this.tmpDir, TMP_MODE);
  }

  /** Paths of a task's folders. Throws AllocDirError for a task name that cannot be a folder name. */
  taskDir(taskName: string): TaskDirPaths {
    checkFolderName(taskName, 'task name');
    if (taskName === 'alloc') {
      throw new AllocDirError(
        this.sharedDir,
        'invalid task name "alloc": it is the allocation\'s shared folder',
      );
    }
    const dir = join(this.dir, taskName);
    return {
      dir,
      localDir: join(dir, 'local'),
      secretsDir: join(dir, 'secrets'),
      tmpDir: join(dir, 'tmp'),
      sharedDir: this.sharedDir,
      logDir: this.logDir,
    };
  }

  /** Creates the shared folders and the task's folders, and returns the task's paths. */
  async buildTaskDir(taskName: string): Promise<TaskDirPaths> {
    const paths = this.taskDir(taskName);
    await this.build();
    await makeDir(paths.dir, DIR_MODE);
    await makeDir(paths.localDir, DIR_MODE);
    await makeDir(paths.secretsDir, SECRETS_MODE);
    await makeDir(paths.tmpDir, TMP_MODE);
    return paths;
  }

  /** Removes the allocation folder and everything in it. */
  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function checkFolderName(name: string, kind: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new AllocDirError(name, `invalid ${kind} ${JSON.stringify(name)}: it must be a single folder name`);
  }
}

/**
 * Creates a folder, or accepts an existing one, and sets its mode. A task can write to its own
 * folders, so an existing entry that is not a real folder (a symlink planted by the task, say) is
 * rejected: following it would chmod, or later write secrets into, a path outside the allocation.
 */
async function makeDir(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const stats = await lstat(path);
    if (!stats.isDirectory()) {
      throw new AllocDirError(path, `cannot build allocation folder: ${path} exists and is not a folder`);
    }
  }
  await chmod(path, mode);
}
