import type { Logger } from 'pino';
import type { Allocation, TaskEvent, TaskState } from '../structs/allocation.js';
import type { Task } from '../structs/job.js';
import type { AllocDir, TaskDirPaths } from './alloc-dir.js';
import type { ExitResult, TaskDriver, TaskHandle, TaskHandleState } from './drivers/driver.js';
import { buildTaskEnv } from './task-env.js';
import { exposeDefaultIdentity, MissingIdentityError } from './task-identity.js';
import { type TaskTemplates, type TemplateChange, TemplateFailure } from './task-templates.js';

/** Task event types, in Nomad's words. */
export const TaskEventType = Object.freeze({
  Received: 'Received',
  TaskSetup: 'Task Setup',
  SetupFailure: 'Setup Failure',
  DriverFailure: 'Driver Failure',
  Started: 'Started',
  Terminated: 'Terminated',
  Killing: 'Killing',
  Killed: 'Killed',
  RestartSignaled: 'Restart Signaled',
  Restarting: 'Restarting',
  Signaling: 'Signaling',
});

/** Signal sent for a template with change_mode signal; the jobspec accepts no other (no ChangeSignal field). */
const TEMPLATE_SIGNAL: NodeJS.Signals = 'SIGHUP';

/** Nomad keeps the newest 10 events of a task. */
const MAX_EVENTS = 10;
/** Nomad's default `kill_timeout`, used when the task's KillTimeout is not a valid duration. */
const DEFAULT_KILL_TIMEOUT_MS = 5000;
/** Nomad's default client `max_kill_timeout`: no task waits longer than this for SIGKILL. */
const DEFAULT_MAX_KILL_TIMEOUT_MS = 30_000;
const NANOSECONDS_PER_MILLISECOND = 1_000_000;

export interface TaskRunnerOptions {
  /** SignedIdentities contains the task's workload identity token, which its identity block may request. */
  readonly alloc: Pick<Allocation, 'ID' | 'Name' | 'Namespace' | 'JobID' | 'TaskGroup' | 'SignedIdentities'>;
  /** The job's Name (NOMAD_JOB_NAME); allocations carry only the job's ID. */
  readonly jobName: string;
  readonly task: Task;
  readonly allocDir: AllocDir;
  readonly driver: TaskDriver;
  readonly logger: Logger;
  /** The client's environment, passed to tasks minus the deny list. Default process.env. */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /**
   * Signal sent first on stop. Default SIGINT, Nomad's default `kill_signal`. It applies to every
   * task of the runner's client because the Task structure has no KillSignal field yet.
   */
  readonly killSignal?: NodeJS.Signals;
  /** Cap on the task's KillTimeout, in ms. Default 30,000, as Nomad's client `max_kill_timeout`. */
  readonly maxKillTimeoutMs?: number;
  /** Wall clock in ms, for event times. Default Date.now. */
  readonly now?: () => number;
  /**
   * Called after every change of the task's state or handle, so the caller can persist it and
   * report it to the servers. Errors it throws are logged and do not stop the task.
   */
  readonly onUpdate?: (update: TaskRunnerUpdate) => void;
  /** The task's state saved before a client restart; `restore` continues from it. */
  readonly restoredState?: TaskState;
  /**
   * The task's `template` blocks, rendered before each start and watched while the task runs.
   * Required when the task has templates; a task with templates and none fails its setup.
   */
  readonly templates?: TaskTemplates;
}

export interface TaskRunnerUpdate {
  readonly taskName: string;
  readonly state: TaskState;
  /** Handle state to persist so that a restarted client can recover the task; null when none runs. */
  readonly handle: TaskHandleState | null;
}

type Phase = 'new' | 'starting' | 'running' | 'dead';

/** Inputs of a start or restart of the task, besides the templates' variables. */
interface StartContext {
  readonly taskDir: TaskDirPaths;
  /** Variables from the task's identity block (NOMAD_TOKEN), which win over the templates'. */
  readonly identityEnv: Readonly<Record<string, string>>;
}

/**
 * Runs one task of one allocation through its life: build its folders, hand it its workload
 * identity, render its templates, build its environment, start it with its driver, wait for it to
 * exit, and stop it on request. Its TaskState moves from pending to running to dead, with Nomad's
 * events (Received, Task Setup, Started, Terminated, Killing, Killed, and Setup Failure or Driver
 * Failure when it cannot start). A task that fails stays failed: no restart policy applies yet.
 * The only restarts are those that a template with `change_mode = "restart"` requests. They
 * happen in place, with Restart Signaled and Restarting events and the Restarts counter.
 *
 * `run` starts a new task; `restore` re-attaches to one started before a client restart. Either
 * may be called once. `kill` may be called at any time, including before or during the start.
 */
export class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #killTimeoutMs: number;
  readonly #killSignal: NodeJS.Signals;
  readonly #done: Promise<TaskState>;
  #resolveDone!: (state: TaskState) => void;
  #state: TaskState;
  #phase: Phase = 'new';
  #handle: TaskHandle | null = null;
  #killRequested = false;
  /** Set while a template restart stops the task, so that its exit starts it again. */
  #restarting = false;
  /** Set when the task is killed because a template can no longer render, which fails the task. */
  #killedByTemplate = false;
  #startContext: StartContext | null = null;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ allocId: options.alloc.ID, task: options.task.Name });
    this.#now = options.now ?? Date.now;
    this.#killSignal = options.killSignal ?? 'SIGINT';
    this.#killTimeoutMs = killTimeoutMs(options.task.KillTimeout, options.maxKillTimeoutMs);
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });

    const restored = options.restoredState;
    if (restored === undefined) {
      this.#state = {
        State: 'pending',
        Failed: false,
        Restarts: 0,
        StartedAt: '',
        FinishedAt: '',
        Events: [],
      };
      this.#appendEvent(TaskEventType.Received, 'Task received by client');
    } else {
      this.#state = restored;
      if (restored.State === 'dead') this.#finish();
    }
  }

  get taskName(): string {
    return this.#options.task.Name;
  }

  state(): TaskState {
    return this.#state;
  }

  /** Returns the handle state to persist, or null while no task runs. */
  handleState(): TaskHandleState | null {
    return this.#handle?.state() ?? null;
  }

  /** Resolves with the final state once the task is dead. */
  done(): Promise<TaskState> {
    return this.#done;
  }

  /**
   * Starts the task and resolves with its final state once it is dead. A task that cannot start
   * ends dead and failed, with a Setup Failure or Driver Failure event. The promise rejects only
   * when the runner was already started.
   */
  async run(): Promise<TaskState> {
    this.#claim('run');
    if (this.#killRequested) return this.#killedBeforeStart();

    this.#appendEvent(TaskEventType.TaskSetup, 'Building task directory');
    let taskDir: TaskDirPaths;
    try {
      taskDir = await this.#options.allocDir.buildTaskDir(this.taskName);
    } catch (err) {
      this.#logger.error({ err }, 'cannot build the task directory');
      return this.#failBeforeStart(
        TaskEventType.SetupFailure,
        `cannot build the task directory: ${messageOf(err)}`,
      );
    }
    if (this.#killRequested) return this.#killedBeforeStart();

    const { alloc, task } = this.#options;
    let identityEnv: Record<string, string>;
    try {
      identityEnv = await exposeDefaultIdentity({
        task,
        signedIdentities: alloc.SignedIdentities,
        secretsDir: taskDir.secretsDir,
      });
    } catch (err) {
      if (err instanceof MissingIdentityError) {
        this.#logger.warn({ code: err.code }, 'not starting task: missing workload identity');
        return this.#failBeforeStart(TaskEventType.SetupFailure, err.message);
      }
      this.#logger.error({ err }, 'failed to write the workload identity');
      return this.#failBeforeStart(
        TaskEventType.SetupFailure,
        `cannot write the workload identity: ${messageOf(err)}`,
      );
    }
    if (this.#killRequested) return this.#killedBeforeStart();

    this.#startContext = { taskDir, identityEnv };
    const watchFrom = await this.#prestartTemplates();
    if (watchFrom === null) return this.#state;
    const env = this.#taskEnv(this.#options.templates?.env() ?? {});

    const driver = this.#options.driver;
    if (driver.name !== task.Driver) {
      return this.#failBeforeStart(
        TaskEventType.DriverFailure,
        `task uses driver "${task.Driver}" but was given the ${driver.name} driver`,
      );
    }
    let handle: TaskHandle;
    try {
      handle = await driver.start(task, {
        allocId: alloc.ID,
        taskName: task.Name,
        env,
        taskDir,
      });
    } catch (err) {
      this.#logger.warn({ err, driver: task.Driver }, 'driver failed to start the task');
      return this.#failBeforeStart(TaskEventType.DriverFailure, messageOf(err));
    }

    this.#handle = handle;
    this.#phase = 'running';
    const startedAt = new Date(this.#now()).toISOString();
    this.#state = { ...this.#state, State: 'running', StartedAt: startedAt };
    this.#appendEvent(TaskEventType.Started, 'Task started by client');
    this.#logger.info({ driver: task.Driver }, 'task started');
    if (this.#killRequested) this.#stopHandle(handle);
    else this.#watchTemplates(watchFrom);
    return this.#watch(handle);
  }

  /**
   * Re-attaches to the task that `handle` describes, saved before a client restart. Resolves to
   * true when the task still runs and is watched again. Otherwise the task is recorded as dead and
   * failed, because its exit status is unknown, and the caller decides whether to start a new one.
   */
  async restore(handle: TaskHandleState): Promise<boolean> {
    this.#claim('restore');
    let recovered: TaskHandle | null = null;
    try {
      recovered = await this.#options.driver.recover(handle);
    } catch (err) {
      this.#logger.warn({ err }, 'cannot recover the task handle');
    }
    if (recovered === null) {
      this.#logger.warn('task was not running after the client restarted');
      this.#terminate({ exitCode: null, signal: null }, 'task was not running after the client restarted');
      return false;
    }

    this.#handle = recovered;
    this.#phase = 'running';
    if (this.#state.State !== 'running') {
      this.#state = { ...this.#state, State: 'running', StartedAt: new Date(this.#now()).toISOString() };
    }
    this.#notify();
    this.#logger.info('task recovered after a client restart');
    if (this.#killRequested) this.#stopHandle(recovered);
    else await this.#restoreTemplates();
    void this.#watch(recovered);
    return true;
  }

  /**
   * Stops the task: the kill signal, then SIGKILL after the task's KillTimeout. Resolves with the
   * final state once the task is dead. A task stopped this way is not failed.
   */
  kill(): Promise<TaskState> {
    if (this.#phase === 'dead' || this.#killRequested) return this.#done;
    this.#killRequested = true;
    this.#options.templates?.stop();
    const seconds = this.#killTimeoutMs / 1000;
    this.#appendEvent(TaskEventType.Killing, `Sent ${this.#killSignal}, SIGKILL after ${seconds}s`);
    if (this.#phase === 'new') this.#killedBeforeStart();
    else if (this.#phase === 'running' && this.#handle !== null) this.#stopHandle(this.#handle);
    // While starting, run() or restore() stops the task once its handle exists.
    return this.#done;
  }

  #claim(method: string): void {
    if (this.#phase !== 'new')
      throw new Error(`TaskRunner.${method}: task ${this.taskName} was already started or killed`);
    this.#phase = 'starting';
  }

  #stopHandle(handle: TaskHandle): void {
    handle.stop(this.#killTimeoutMs, this.#killSignal).catch((err: unknown) => {
      this.#logger.error({ err }, 'cannot stop the task');
    });
  }

  async #watch(handle: TaskHandle): Promise<TaskState> {
    const result = await handle.wait();
    this.#logger.info({ exitCode: result.exitCode, signal: result.signal }, 'task exited');
    if (this.#restarting && !this.#killRequested) return this.#startAgain(result);
    this.#terminate(result, describeExit(result));
    return this.#state;
  }

  /**
   * Renders the task's templates before its start. Returns the index to watch the variables from,
   * or null when the task ended instead: failed with a Setup Failure event naming the template, or
   * killed meanwhile.
   */
  async #prestartTemplates(): Promise<number | null> {
    const { task, templates } = this.#options;
    if (task.Templates.length === 0) return 0;
    if (templates === undefined) {
      this.#failBeforeStart(
        TaskEventType.SetupFailure,
        'Template failed: the client cannot render templates',
      );
      return null;
    }
    try {
      const watchFrom = await templates.prestart(this.#startContext!.taskDir.dir, this.#taskEnv({}));
      if (!this.#killRequested) return watchFrom;
    } catch (err) {
      if (!this.#killRequested) {
        const failure = err instanceof TemplateFailure ? err : null;
        if (failure === null) this.#logger.error({ err }, 'not starting task: cannot render its templates');
        else
          this.#logger.warn(
            { destination: failure.destination, code: failure.code },
            'not starting task: template failed',
          );
        this.#failBeforeStart(
          TaskEventType.SetupFailure,
          failure?.message ?? `Template failed: ${messageOf(err)}`,
        );
        return null;
      }
    }
    this.#killedBeforeStart();
    return null;
  }

  /** The task's environment with `templateEnv` between the task's `env` block and the identity's variables. */
  #taskEnv(templateEnv: Readonly<Record<string, string>>): Record<string, string> {
    const { alloc, task } = this.#options;
    const context = this.#startContext!;
    return buildTaskEnv({
      allocId: alloc.ID,
      allocName: alloc.Name,
      namespace: alloc.Namespace,
      jobId: alloc.JobID,
      jobName: this.#options.jobName,
      groupName: alloc.TaskGroup,
      task,
      taskDir: context.taskDir,
      hostEnv: this.#options.hostEnv ?? process.env,
      hookEnv: { ...templateEnv, ...context.identityEnv },
    });
  }

  /** Watches the templates in the background while the task runs. */
  #watchTemplates(fromIndex: number): void {
    const templates = this.#options.templates;
    if (templates === undefined || this.#options.task.Templates.length === 0) return;
    templates
      .watch(
        fromIndex,
        (change) => this.#onTemplateChange(change),
        (failure) => this.#failRunning(failure),
      )
      .catch((err: unknown) => {
        this.#logger.error({ err }, 'template watch failed');
      });
  }

  /**
   * Prepares the templates of a task recovered after a client restart and watches them, so that
   * a variable changed while the client was away is applied now. The task's identity variables are
   * read again (and its token file rewritten) for the environment of a later restart.
   */
  async #restoreTemplates(): Promise<void> {
    const templates = this.#options.templates;
    const { alloc, task } = this.#options;
    if (templates === undefined || task.Templates.length === 0) return;
    try {
      const taskDir = this.#options.allocDir.taskDir(task.Name);
      const identityEnv = await exposeDefaultIdentity({
        task,
        signedIdentities: alloc.SignedIdentities,
        secretsDir: taskDir.secretsDir,
      });
      this.#startContext = { taskDir, identityEnv };
      await templates.restore(taskDir.dir, this.#taskEnv({}));
    } catch (err) {
      if (err instanceof TemplateFailure) this.#failRunning(err);
      else this.#logger.error({ err }, 'cannot watch the templates of the recovered task');
      return;
    }
    this.#watchTemplates(0);
  }

  /**
   * Applies the change mode of the templates that a variable change re-rendered: a restart when
   * any of them requests one, else nothing.
   */
  async #onTemplateChange(change: TemplateChange): Promise<void> {
    const destinations = change.changed.map((template) => template.DestPath);
    if (change.changed.some((template) => template.ChangeMode === 'restart')) {
      await this.#restart(`Template with change_mode restart re-rendered: ${destinations.join(', ')}`);
      return;
    }
    if (change.changed.some((template) => template.ChangeMode === 'signal')) {
      const handle = this.#handle;
      if (handle === null) return;
      this.#appendEvent(TaskEventType.Signaling, `Template re-rendered: ${destinations.join(', ')}`);
      await handle.signal(TEMPLATE_SIGNAL);
      this.#logger.info({ destinations, signal: TEMPLATE_SIGNAL }, 'template re-rendered; task signalled');
      return;
    }
    this.#logger.info({ destinations }, 'template re-rendered; change_mode noop leaves the task as it is');
  }

  /**
   * Stops the running task and starts it again with the templates' new variables. The exit is
   * recorded (Terminated) but does not end the task; `#startAgain` continues from it.
   */
  async #restart(reason: string): Promise<void> {
    const handle = this.#handle;
    if (this.#phase !== 'running' || handle === null || this.#killRequested || this.#restarting) return;
    this.#restarting = true;
    this.#appendEvent(TaskEventType.RestartSignaled, reason);
    this.#logger.info('restarting task after a template change');
    await handle.stop(this.#killTimeoutMs, this.#killSignal).catch((err: unknown) => {
      this.#logger.error({ err }, 'cannot stop the task for its restart');
    });
  }

  async #startAgain(exit: ExitResult): Promise<TaskState> {
    this.#restarting = false;
    this.#handle = null;
    this.#appendEvent(TaskEventType.Terminated, describeExit(exit), exit.exitCode ?? -1);
    this.#state = { ...this.#state, Restarts: this.#state.Restarts + 1 };
    this.#appendEvent(TaskEventType.Restarting, 'Task restarting in 0s');

    const { alloc, task } = this.#options;
    const context = this.#startContext!;
    let handle: TaskHandle;
    try {
      handle = await this.#options.driver.start(task, {
        allocId: alloc.ID,
        taskName: task.Name,
        env: this.#taskEnv(this.#options.templates?.env() ?? {}),
        taskDir: context.taskDir,
      });
    } catch (err) {
      this.#logger.warn({ err, driver: task.Driver }, 'driver failed to restart the task');
      this.#options.templates?.stop();
      return this.#failBeforeStart(TaskEventType.DriverFailure, messageOf(err));
    }
    this.#handle = handle;
    this.#state = { ...this.#state, StartedAt: new Date(this.#now()).toISOString() };
    this.#appendEvent(TaskEventType.Started, 'Task started by client');
    this.#logger.info({ driver: task.Driver, restarts: this.#state.Restarts }, 'task restarted');
    if (this.#killRequested) this.#stopHandle(handle);
    return this.#watch(handle);
  }

  /**
   * Kills the running task as failed because a template can no longer be rendered (a variable was
   * deleted, or the identity lost access), as Nomad kills a task whose template fails.
   */
  #failRunning(failure: TemplateFailure): void {
    this.#logger.warn(
      { destination: failure.destination, code: failure.code },
      'killing task: template failed',
    );
    if (this.#phase === 'dead' || this.#killRequested) return;
    this.#killedByTemplate = true;
    this.#killRequested = true;
    this.#options.templates?.stop();
    this.#appendEvent(TaskEventType.Killing, failure.message);
    if (this.#handle !== null) this.#stopHandle(this.#handle);
  }

  #terminate(result: ExitResult, message: string): void {
    this.#handle = null;
    // NOTE: an unknown exit code (a recovered process) counts as a failure, which may flag a task
    // that succeeded while the client was down; counting it as a success could hide a crash.
    const failed = this.#killedByTemplate || (!this.#killRequested && result.exitCode !== 0);
    this.#state = {
      ...this.#state,
      State: 'dead',
      Failed: failed,
      FinishedAt: new Date(this.#now()).toISOString(),
    };
    // -1 stands for an unknown exit code in the event, whose ExitCode is a number.
    this.#appendEvent(TaskEventType.Terminated, message, result.exitCode ?? -1);
    if (this.#killRequested) this.#appendEvent(TaskEventType.Killed, 'Task successfully killed');
    this.#finish();
  }

  #failBeforeStart(type: string, message: string): TaskState {
    this.#state = {
      ...this.#state,
      State: 'dead',
      Failed: true,
      FinishedAt: new Date(this.#now()).toISOString(),
    };
    this.#appendEvent(type, message);
    this.#finish();
    return this.#state;
  }

  #killedBeforeStart(): TaskState {
    this.#state = {
      ...this.#state,
      State: 'dead',
      Failed: false,
      FinishedAt: new Date(this.#now()).toISOString(),
    };
    this.#appendEvent(TaskEventType.Killed, 'Task killed before it started');
    this.#finish();
    return this.#state;
  }

  #finish(): void {
    this.#phase = 'dead';
    this.#options.templates?.stop();
    this.#resolveDone(this.#state);
  }

  #appendEvent(type: string, message: string, exitCode = 0): void {
    const event: TaskEvent = {
      Type: type,
      Time: Math.round(this.#now()) * NANOSECONDS_PER_MILLISECOND,
      DisplayMessage: message,
      ExitCode: exitCode,
    };
    this.#state = { ...this.#state, Events: [...this.#state.Events, event].slice(-MAX_EVENTS) };
    this.#notify();
  }

  #notify(): void {
    const onUpdate = this.#options.onUpdate;
    if (onUpdate === undefined) return;
    try {
      onUpdate({ taskName: this.taskName, state: this.#state, handle: this.handleState() });
    } catch (err) {
      this.#logger.error({ err }, 'task update listener failed');
    }
  }
}

function killTimeoutMs(killTimeoutNs: number, maxMs = DEFAULT_MAX_KILL_TIMEOUT_MS): number {
  const ms =
    Number.isFinite(killTimeoutNs) && killTimeoutNs >= 0
      ? killTimeoutNs / NANOSECONDS_PER_MILLISECOND
      : DEFAULT_KILL_TIMEOUT_MS;
  return Math.min(ms, maxMs);
}

function describeExit(result: ExitResult): string {
  if (result.exitCode === null)
    return 'Exit code unknown: the task was not a child of this client when it exited';
  if (result.signal !== null) return `Exit code ${result.exitCode}, signal ${result.signal}`;
  return `Exit code ${result.exitCode}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
