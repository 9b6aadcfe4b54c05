import { constants } from 'node:os';
import type { ExitResult, TaskHandle, TaskHandleState } from './driver.js';
import { readProcStat } from './proc-stat.js';

/**
 * A process identified across client restarts: its pid alone could name another process once the
 * pid is reused, so the start time (in clock ticks since boot) and the boot id go with it.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTime: string;
  readonly bootId: string;
}

export const RAW_EXEC_HANDLE_VERSION = 1;

/**
 * A raw_exec task: a process that leads its own process group (spawned detached, so setsid made
 * its pid the group id). Signals go to the whole group, so children the task started die with it.
 *
 * Exit comes from one of two sources: the child's exit event when this client spawned it, or
 * polling /proc for a process recovered after a restart (see `pollExit`).
 */
export class ProcessGroupHandle implements TaskHandle {
  readonly #identity: ProcessIdentity;
  readonly #exit: Promise<ExitResult>;
  /** True for a process that this client did not spawn, so its pid must be checked before each signal. */
  readonly #recovered: boolean;
  #exited = false;
  #stopping: Promise<void> | null = null;

  constructor(identity: ProcessIdentity, exit: Promise<ExitResult>, recovered: boolean) {
    this.#identity = identity;
    this.#recovered = recovered;
    this.#exit = exit.then((result) => {
      this.#exited = true;
      // Children that outlive the task's main process (daemons it forked, or children that ignored
      // the stop signal) are part of the task, so they die with it, as Nomad's cgroup cleanup does.
      try {
        signalGroup(this.#identity.pid, 'SIGKILL');
      } catch {
        // EPERM: a member changed its credentials (a setuid program); it cannot be killed from here.
      }
      return result;
    });
  }

  get pid(): number {
    return this.#identity.pid;
  }

  state(): TaskHandleState {
    const { pid, startTime, bootId } = this.#identity;
    return { driver: 'raw_exec', version: RAW_EXEC_HANDLE_VERSION, data: { pid, startTime, bootId } };
  }

  wait(): Promise<ExitResult> {
    return this.#exit;
  }

  stop(killTimeoutMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    this.#stopping ??= this.#stop(killTimeoutMs, signal);
    return this.#stopping;
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    if (this.#exited || !(await this.#stillOurs())) return;
    signalGroup(this.#identity.pid, signal);
  }

  async #stop(killTimeoutMs: number, signal: NodeJS.Signals): Promise<void> {
    if (this.#exited) return;
    if (!(await this.#stillOurs())) {
      await this.#exit;
      return;
    }
    signalGroup(this.#identity.pid, signal);

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, killTimeoutMs);
    });
    await Promise.race([this.#exit, timeout]);
    clearTimeout(timer);

    if (!this.#exited && (await this.#stillOurs())) signalGroup(this.#identity.pid, 'SIGKILL');
    await this.#exit;
  }

  /**
   * A spawned child's pid cannot be reused before this process reaps it, which happens only
   * when its exit event fires. A recovered process is not our child, so its pid is checked against
   * the saved start time right before a signal. A small window remains between that check and the
   * kill.
   */
  async #stillOurs(): Promise<boolean> {
    if (!this.#recovered) return true;
    const stat = await readProcStat(this.#identity.pid);
    return stat !== null && stat.startTime === this.#identity.startTime && stat.state !== 'Z';
  }
}

/**
 * Sends a signal to a process group; a group that no longer exists is not an error. Linux keeps a
 * pid number allocated while any process still uses it as its group id, so the number cannot name
 * another group while members of the task remain.
 */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  // kill(-1) would signal every process this user may signal, and kill(-0) the client's own group.
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new RangeError(`invalid process group id ${pgid}`);
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Converts a child's exit event to an ExitResult, encoding a signal as 128 + its number. */
export function exitResultOf(code: number | null, signal: NodeJS.Signals | null): ExitResult {
  if (signal !== null) return { exitCode: 128 + (constants.signals[signal] ?? 0), signal };
  return { exitCode: code, signal: null };
}

/** Decodes a wait(2) status word as the kernel shows it in /proc/PID/stat. */
export function exitResultOfWaitStatus(status: number | null): ExitResult {
  if (status === null) return { exitCode: null, signal: null };
  const signalNumber = status & 0x7f;
  if (signalNumber === 0) return { exitCode: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(constants.signals).find(([, number]) => number === signalNumber)?.[0];
  return { exitCode: 128 + signalNumber, signal: (name as NodeJS.Signals | undefined) ?? null };
}

/**
 * Waits for a process that is not our child to exit. waitpid(2) works only on one's own children,
 * and Node exposes no pidfd (pidfd_open plus poll would give an exit notification on Linux 5.3+),
 * so the only way left is to read /proc/PID/stat every `intervalMs`. The process has exited when
 * its entry is gone, is a zombie, or now belongs to another process (different start time). Its
 * exit status is known only when it is caught as a zombie, because its new parent reaps it.
 */
export async function pollExit(identity: ProcessIdentity, intervalMs: number): Promise<ExitResult> {
  for (;;) {
    let stat: Awaited<ReturnType<typeof readProcStat>>;
    try {
      stat = await readProcStat(identity.pid);
    } catch {
      // The entry exists but cannot be read (EACCES under a hidepid mount, say), so the process
      // cannot be watched; reporting an unknown exit is the only result that ends the wait.
      return { exitCode: null, signal: null };
    }
    if (stat === null || stat.startTime !== identity.startTime) return { exitCode: null, signal: null };
    if (stat.state === 'Z' || stat.state === 'X') return exitResultOfWaitStatus(stat.exitStatus);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
