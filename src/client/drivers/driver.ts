import type { Task } from '../../structs/job.js';
import type { TaskDirPaths } from '../alloc-dir.js';

/** A value that survives JSON.stringify and JSON.parse unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * State that a client persists for a running task, so that a new driver instance can find the task again
 * after the client restarts. `data` is private to the driver named in `driver`.
 */
export interface TaskHandleState {
  readonly driver: string;
  /** Format version of `data`; a driver rejects versions it does not know. */
  readonly version: number;
  readonly data: { readonly [key: string]: JsonValue };
}

/** Whether a driver can run tasks on this client, in the shape of Nomad's driver info. */
export interface DriverFingerprint {
  readonly Detected: boolean;
  readonly Healthy: boolean;
  readonly HealthDescription: string;
}

/** Outcome of a finished task: its exit code and the signal that ended it. */
export interface ExitResult {
  /**
   * Exit status. When a signal ended the process, it is 128 plus the signal number, as shells and
   * Nomad's executor report it. Null when the exit status cannot be known, which happens for a
   * process that was recovered after a client restart and is not a child of this client.
   */
  readonly exitCode: number | null;
  /** Signal that ended the process, or null when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
}

/** Everything a driver needs to start one task, prepared by the task runner. */
export interface TaskStartContext {
  readonly allocId: string;
  readonly taskName: string;
  /** The complete environment of the task. It may hold secrets, so it is never logged. */
  readonly env: Readonly<Record<string, string>>;
  readonly taskDir: TaskDirPaths;
}

/** A started (or recovered) task. */
export interface TaskHandle {
  /** The driver-specific state to persist; `TaskDriver.recover` takes it back. */
  state(): TaskHandleState;
  /** Resolves once, when the task has exited. Never rejects. */
  wait(): Promise<ExitResult>;
  /**
   * Sends `signal` (default SIGINT, Nomad's default `kill_signal`), waits up to `killTimeoutMs` for
   * the task to exit, then sends SIGKILL. Resolves once the task has exited. Calling it again, or
   * after the task exited, is harmless.
   */
  stop(killTimeoutMs: number, signal?: NodeJS.Signals): Promise<void>;
  /** Sends `signal` to the running task without stopping it; does nothing once it has exited. */
  signal(signal: NodeJS.Signals): Promise<void>;
}

export interface TaskDriver {
  /** The name that a task's `Driver` field uses (`raw_exec`, `mock`). */
  readonly name: string;
  fingerprint(): DriverFingerprint;
  /**
   * Starts the task. Rejects with a DriverError when the task's Config is invalid (code
   * INVALID_CONFIG, naming the field), when the driver is disabled, or when the start fails.
   */
  start(task: Task, context: TaskStartContext): Promise<TaskHandle>;
  /**
   * Re-attaches to a task started before a client restart. Resolves to null when the task no
   * longer runs. Rejects with a DriverError (code INVALID_HANDLE) when `state` was not written by
   * this driver or is malformed.
   */
  recover(state: TaskHandleState): Promise<TaskHandle | null>;
}

/**
 * Why a driver could not do what it was asked:
 * - INVALID_CONFIG: the task's Config is missing a field or has one of the wrong type (`field`);
 * - DISABLED: the driver is not enabled or not usable on this client;
 * - START_FAILED: the task could not be started (for example, its command was not found);
 * - INVALID_HANDLE: a handle state given to `recover` is malformed or belongs to another driver.
 */
export type DriverErrorCode = 'INVALID_CONFIG' | 'DISABLED' | 'START_FAILED' | 'INVALID_HANDLE';

export class DriverError extends Error {
  override readonly name = 'DriverError';
  readonly code: DriverErrorCode;
  readonly driver: string;
  /** Config field at fault for INVALID_CONFIG, '' otherwise. */
  readonly field: string;

  constructor(code: DriverErrorCode, driver: string, message: string, field = '') {
    super(message);
    this.code = code;
    this.driver = driver;
    this.field = field;
  }
}
