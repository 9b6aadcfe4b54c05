import { constants } from 'node:os';
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

const NAME = 'mock';
const HANDLE_VERSION = 1;
const CONFIG_FIELDS = ['run_for', 'exit_code', 'start_error'] as const;
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface MockDriverOptions {
  /** Wall clock in ms; it must keep counting across client restarts. Default Date.now. */
  readonly now?: () => number;
}

/**
 * A driver that runs nothing, for tests and benchmarks. Config:
 * - `run_for`: Go duration the task runs before it exits; "0" or missing runs until stopped;
 * - `exit_code`: exit code after `run_for` (0 to 255, default 0);
 * - `start_error`: when set, the start fails with this message.
 */
export class MockDriver implements TaskDriver {
  readonly name = NAME;
  readonly #now: () => number;

  constructor(options: MockDriverOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  fingerprint(): DriverFingerprint {
    return { Detected: true, Healthy: true, HealthDescription: 'Healthy' };
  }

  async start(task: Task, _context: TaskStartContext): Promise<TaskHandle> {
    const config = new ConfigReader(NAME, task.Config, CONFIG_FIELDS);
    const runForMs = config.duration('run_for', 0);
    const exitCode = config.integer('exit_code', 0, 255, 0);
    const startError = config.string('start_error', false);
    if (startError !== undefined && startError !== '')
      throw new DriverError('START_FAILED', NAME, startError);
    return new MockHandle({ startedAtMs: this.#now(), runForMs, exitCode }, this.#now);
  }

  async recover(state: TaskHandleState): Promise<TaskHandle | null> {
    return new MockHandle(parseHandleState(state), this.#now);
  }
}

interface MockRun {
  readonly startedAtMs: number;
  /** 0 = until stopped. */
  readonly runForMs: number;
  readonly exitCode: number;
}

class MockHandle implements TaskHandle {
  readonly #run: MockRun;
  readonly #exit: Promise<ExitResult>;
  #finish!: (result: ExitResult) => void;
  #timer: NodeJS.Timeout | undefined;

  /** Arms the timer for the time left of `run_for`, measured from the first start, so a recovered task keeps its end. */
  constructor(run: MockRun, now: () => number) {
    this.#run = run;
    this.#exit = new Promise((resolve) => {
      this.#finish = resolve;
    });
    if (run.runForMs > 0) this.#arm(run.startedAtMs + run.runForMs, now);
  }

  /** setTimeout fires at once for delays above 2^31 - 1 ms (about 24.8 days), so long runs wait in steps. */
  #arm(endMs: number, now: () => number): void {
    const leftMs = endMs - now();
    const finish = () => this.#finish({ exitCode: this.#run.exitCode, signal: null });
    if (leftMs <= 0) finish();
    else if (leftMs <= MAX_TIMER_MS) this.#timer = setTimeout(finish, leftMs);
    else this.#timer = setTimeout(() => this.#arm(endMs, now), MAX_TIMER_MS);
  }

  state(): TaskHandleState {
    const { startedAtMs, runForMs, exitCode } = this.#run;
    return { driver: NAME, version: HANDLE_VERSION, data: { startedAtMs, runForMs, exitCode } };
  }

  wait(): Promise<ExitResult> {
    return this.#exit;
  }

  /** Records the signal; a mock task keeps running, as a process that handles it does. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    this.signals.push(signal);
  }

  /** Signals received through `signal`, in order, for tests. */
  readonly signals: NodeJS.Signals[] = [];

  /** Ends the task at once, as a process that exits on the stop signal. */
  async stop(_killTimeoutMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    clearTimeout(this.#timer);
    this.#finish({ exitCode: 128 + (constants.signals[signal] ?? 0), signal });
    await this.#exit;
  }
}

function parseHandleState(state: TaskHandleState): MockRun {
  if (state.driver !== NAME || state.version !== HANDLE_VERSION) {
    throw new DriverError(
      'INVALID_HANDLE',
      NAME,
      `cannot recover a ${state.driver} handle of version ${state.version} with mock (version ${HANDLE_VERSION})`,
    );
  }
  const { startedAtMs, runForMs, exitCode } = state.data;
  for (const [field, value] of Object.entries({ startedAtMs, runForMs, exitCode })) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new DriverError('INVALID_HANDLE', NAME, `invalid mock handle: ${field} ${JSON.stringify(value)}`);
    }
  }
  return { startedAtMs: startedAtMs as number, runForMs: runForMs as number, exitCode: exitCode as number };
}
