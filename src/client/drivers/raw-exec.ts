import { type ChildProcess, spawn } from 'node:child_process';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task } from '../../structs/job.js';
import { ConfigReader } from './config-fields.js';
import {
  DriverError,
  type DriverFingerprint,
  type ExitResult,
  type TaskDriver,
  type TaskHandle,
  type TaskHandleState,
  type TaskStartContext,
} from './driver.js';
import { readBootId, readProcStat, readProcStatSync } from './proc-stat.js';
import {
  exitResultOf,
  ProcessGroupHandle,
  type ProcessIdentity,
  pollExit,
  RAW_EXEC_HANDLE_VERSION,
} from './process-group-handle.js';

const NAME = 'raw_exec';
const CONFIG_FIELDS = ['command', 'args'] as const;

export interface RawExecDriverOptions {
  /** raw_exec runs tasks unisolated, as the client's user, so it is off unless the client enables it (as in Nomad). */
  readonly enabled: boolean;
  /** How often a recovered process is checked for exit, in ms. Default 200. */
  readonly pollIntervalMs?: number;
}

/**
 * Runs a task's `command` with its `args` as a plain process: no isolation, cwd = the task's folder,
 * the environment the task runner built, stdout and stderr appended to alloc/logs/TASK.stdout.0 and
 * TASK.stderr.0. The process leads its own process group, so stopping the task stops its children
 * too, and it is left running when the client exits so that a restarted client can recover it.
 *
 * Linux only: recovery compares start times from /proc.
 */
export class RawExecDriver implements TaskDriver {
  readonly name = NAME;
  readonly #enabled: boolean;
  readonly #pollIntervalMs: number;

  constructor(options: RawExecDriverOptions) {
    this.#enabled = options.enabled;
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
  }

  fingerprint(): DriverFingerprint {
    if (!this.#enabled) {
      return { Detected: false, Healthy: false, HealthDescription: 'disabled in the client configuration' };
    }
    if (readBootId() === null) {
      return { Detected: true, Healthy: false, HealthDescription: 'needs /proc (Linux) to track processes' };
    }
    return { Detected: true, Healthy: true, HealthDescription: 'Healthy' };
  }

  async start(task: Task, context: TaskStartContext): Promise<TaskHandle> {
    if (!this.#enabled) {
      throw new DriverError(
        'DISABLED',
        NAME,
        'raw_exec is disabled on this client; enable it with plugin "raw_exec" { config { enabled = true } }',
      );
    }
    const bootId = readBootId();
    if (bootId === null)
      throw new DriverError('DISABLED', NAME, 'raw_exec needs /proc (Linux) to track processes');

    const config = new ConfigReader(NAME, task.Config, CONFIG_FIELDS);
    const command = config.string('command', true);
    const args = config.stringList('args');

    // NOTE: logs grow without limit; Nomad rotates them (logs block: max_files, max_file_size).
    const logBase = join(context.taskDir.logDir, context.taskName);
    const stdout = await openLog(`${logBase}.stdout.0`);
    let stderr: FileHandle | undefined;
    let spawned: SpawnedProcess;
    try {
      stderr = await openLog(`${logBase}.stderr.0`);
      spawned = spawnGroupLeader(command, args, context, stdout.fd, stderr.fd);
    } finally {
      // The child has its own copies of the descriptors.
      await stdout.close();
      await stderr?.close();
    }

    const { child, startTime, spawnError, exit } = spawned;
    if (child.pid === undefined) {
      const err = await spawnError;
      throw new DriverError('START_FAILED', NAME, `cannot start ${JSON.stringify(command)}: ${err.message}`);
    }
    if (startTime === null) {
      // Without a start time the process could never be recovered safely, so it must not run.
      child.kill('SIGKILL');
      throw new DriverError(
        'START_FAILED',
        NAME,
        `cannot read /proc/${child.pid}/stat of the started process`,
      );
    }
    return new ProcessGroupHandle({ pid: child.pid, startTime, bootId }, exit, false);
  }

  async recover(state: TaskHandleState): Promise<TaskHandle | null> {
    const identity = parseHandleState(state);
    if (identity.bootId !== readBootId()) return null;
    const stat = await readProcStat(identity.pid);
    if (stat === null || stat.startTime !== identity.startTime || stat.state === 'X') return null;
    return new ProcessGroupHandle(identity, pollExit(identity, this.#pollIntervalMs), true);
  }
}

interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly startTime: string | null;
  readonly spawnError: Promise<Error>;
  readonly exit: Promise<ExitResult>;
}

/**
 * Spawns the task as the leader of a new session and process group (`detached`). Listeners are
 * attached and the start time is read before returning, while the event loop cannot yet have
 * delivered (or lost) the error and exit events, nor reaped the child.
 */
function spawnGroupLeader(
  command: string,
  args: readonly string[],
  context: TaskStartContext,
  stdoutFd: number,
  stderrFd: number,
): SpawnedProcess {
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: context.taskDir.dir,
      env: context.env,
      detached: true,
      stdio: ['ignore', stdoutFd, stderrFd],
    });
  } catch (err) {
    // spawn throws synchronously for arguments it cannot pass to exec, such as a NUL byte.
    throw new DriverError(
      'START_FAILED',
      NAME,
      `cannot start ${JSON.stringify(command)}: ${(err as Error).message}`,
    );
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exit = new Promise<ExitResult>((resolve) => {
    child.once('exit', (code, signal) => resolve(exitResultOf(code, signal)));
  });
  const startTime = child.pid === undefined ? null : (readProcStatSync(child.pid)?.startTime ?? null);
  return { child, startTime, spawnError, exit };
}

function openLog(path: string): Promise<FileHandle> {
  return open(path, 'a', 0o644);
}

function parseHandleState(state: TaskHandleState): ProcessIdentity {
  if (state.driver !== NAME || state.version !== RAW_EXEC_HANDLE_VERSION) {
    throw new DriverError(
      'INVALID_HANDLE',
      NAME,
      `cannot recover a ${state.driver} handle of version ${state.version} with raw_exec (version ${RAW_EXEC_HANDLE_VERSION})`,
    );
  }
  const { pid, startTime, bootId } = state.data;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1) {
    throw new DriverError('INVALID_HANDLE', NAME, `invalid raw_exec handle: pid ${JSON.stringify(pid)}`);
  }
  if (typeof startTime !== 'string' || !/^\d+$/.test(startTime)) {
    throw new DriverError(
      'INVALID_HANDLE',
      NAME,
      `invalid raw_exec handle: startTime ${JSON.stringify(startTime)}`,
    );
  }
  if (typeof bootId !== 'string' || bootId === '') {
    throw new DriverError(
      'INVALID_HANDLE',
      NAME,
      `invalid raw_exec handle: bootId ${JSON.stringify(bootId)}`,
    );
  }
  return { pid, startTime, bootId };
}
