import type { Logger } from 'pino';
import type { TaskState } from '../structs/allocation.js';
import type { Task } from '../structs/job.js';
import { allocClientStatus } from './alloc-client-status.js';
import { AllocDir } from './alloc-dir.js';
import type { AllocUpdate } from './alloc-status-reporter.js';
import type { ClientAllocation } from './client-allocation.js';
import { missingDriver } from './driver-catalog.js';
import type { TaskDriver, TaskHandleState } from './drivers/driver.js';
import type { AllocRecord, LocalStateStore, TaskRecord } from './local-state.js';
import type { ClientRpc } from './rpc-client.js';
import { TaskEventType, TaskRunner, type TaskRunnerUpdate } from './task-runner.js';
import { TaskTemplates } from './task-templates.js';
import { type NodeCredentials, RpcVariableReader } from './variable-reader.js';

export interface AllocRunnerDeps {
  /** The agent's data_dir; allocation folders go under DATA_DIR/alloc/. */
  readonly dataDir: string;
  readonly drivers: ReadonlyMap<string, TaskDriver>;
  readonly store: LocalStateStore;
  /** Queues the allocation's status for the servers. */
  readonly report: (update: AllocUpdate) => void;
  /**
   * The client RPC and the node's credentials, with which templates read variables. Without them,
   * a template that reads a variable fails as for a task without a workload identity.
   */
  readonly variables?: { readonly rpc: Pick<ClientRpc, 'call'>; readonly node: NodeCredentials };
  readonly logger: Logger;
}

/**
 * Runs one allocation: one TaskRunner per task of its group, all started together, with the
 * allocation's client status derived from their states. Every change of a task's state or handle
 * is written to the local state and reported to the servers.
 *
 * An allocation runs at most once on a client whose data folder is kept. Its record is written,
 * with every task pending, before any task starts, so a client that restarts finds it and
 * re-attaches (`restore`) instead of starting it again. A task whose setup began but whose handle
 * was not saved may be running untracked, so it is marked failed rather than started again.
 */
export class AllocRunner {
  readonly #deps: AllocRunnerDeps;
  readonly #logger: Logger;
  readonly #tasks = new Map<string, TaskRunner>();
  readonly #records = new Map<string, TaskRecord>();
  #alloc: ClientAllocation;
  /** False while the task runners are built: their first events are saved together afterwards. */
  #ready = false;
  #stopping: Promise<void> | null = null;

  constructor(alloc: ClientAllocation, deps: AllocRunnerDeps) {
    this.#alloc = alloc;
    this.#deps = deps;
    this.#logger = deps.logger.child({ allocId: alloc.ID, job: alloc.JobID, group: alloc.TaskGroup });
  }

  get id(): string {
    return this.#alloc.ID;
  }

  /** Current state of each task, by name. */
  taskStates(): Record<string, TaskState> {
    const states: Record<string, TaskState> = {};
    for (const [name, record] of this.#records) states[name] = record.state;
    return states;
  }

  /** Starts a new allocation's tasks, after its record is written. */
  async start(): Promise<void> {
    const tasks = this.#groupTasks();
    if (typeof tasks === 'string') {
      await this.#failWithoutRunning(tasks);
      return;
    }
    for (const task of tasks) this.#addRunner(task);
    await this.#becomeReady();
    this.#logger.info({ tasks: tasks.map((task) => task.Name) }, 'starting allocation');
    for (const runner of this.#tasks.values()) void runner.run();
    if (this.#alloc.DesiredStatus !== 'run') void this.stop();
  }

  /**
   * Rebuilds the runner from the record saved before a client restart. Dead tasks stay dead.
   * Running tasks are recovered through their driver, or marked failed when they are gone. Tasks
   * whose setup never began start now, unless the allocation is being stopped.
   */
  async restore(record: AllocRecord): Promise<void> {
    const tasks = this.#groupTasks();
    const byName = new Map(typeof tasks === 'string' ? [] : tasks.map((task) => [task.Name, task]));
    const toRecover: [TaskRunner, TaskHandleState][] = [];
    const toRun: TaskRunner[] = [];
    for (const [name, saved] of Object.entries(record.tasks)) {
      const task = byName.get(name);
      if (task === undefined) {
        const state =
          saved.state.State === 'dead'
            ? saved.state
            : failedState(saved.state, 'the task is missing from the job spec');
        this.#records.set(name, { state, handle: null });
        continue;
      }
      if (saved.state.State === 'dead') {
        this.#addRunner(task, saved.state);
      } else if (saved.handle !== null && saved.handle !== undefined) {
        toRecover.push([this.#addRunner(task, saved.state), saved.handle as TaskHandleState]);
      } else if (!saved.state.Events.some((event) => event.Type === TaskEventType.TaskSetup)) {
        toRun.push(this.#addRunner(task, saved.state));
      } else {
        const reason =
          'the client stopped while the task was starting, so it may be running untracked; it is not started again';
        this.#addRunner(task, failedState(saved.state, reason));
      }
    }
    await this.#becomeReady();
    const recovered = await Promise.all(toRecover.map(([runner, handle]) => runner.restore(handle)));
    this.#logger.info(
      {
        recovered: recovered.filter(Boolean).length,
        lost: recovered.filter((ok) => !ok).length,
        toStart: toRun.length,
      },
      'restored allocation',
    );
    if (this.#alloc.DesiredStatus === 'run') for (const runner of toRun) void runner.run();
    else void this.stop();
  }

  /** Takes the servers' newer version of the allocation; stops the tasks once its desired status is no longer run. */
  update(alloc: ClientAllocation): void {
    // A purged job comes back as null; the tasks were built from the job that the record kept.
    this.#alloc = alloc.Job === null && this.#alloc.Job !== null ? { ...alloc, Job: this.#alloc.Job } : alloc;
    this.#save();
    // Reported again in case the servers missed an earlier report (a status the client sent to a server that then failed).
    this.#report();
    if (alloc.DesiredStatus !== 'run') void this.stop();
  }

  /** Stops every task (stop signal, then SIGKILL after its kill timeout) and resolves once all are dead. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#logger.info(
        { desiredStatus: this.#alloc.DesiredStatus, description: this.#alloc.DesiredDescription },
        'stopping allocation',
      );
      await Promise.all([...this.#tasks.values()].map((runner) => runner.kill()));
    })();
    return this.#stopping;
  }

  /** Stops the tasks and deletes the local record; for an allocation that the servers no longer place here. */
  async destroy(): Promise<void> {
    await this.stop();
    await this.#deps.store.remove(this.#alloc.ID);
  }

  /** The tasks of the allocation's group in its job, or why they cannot be known. */
  #groupTasks(): readonly Task[] | string {
    const job = this.#alloc.Job;
    if (job === null) return `job ${JSON.stringify(this.#alloc.JobID)} no longer exists`;
    const group = job.TaskGroups.find((candidate) => candidate.Name === this.#alloc.TaskGroup);
    if (group === undefined)
      return `group ${JSON.stringify(this.#alloc.TaskGroup)} is missing from job ${JSON.stringify(job.ID)}`;
    return group.Tasks;
  }

  #addRunner(task: Task, restoredState?: TaskState): TaskRunner {
    const runner = new TaskRunner({
      alloc: this.#alloc,
      jobName: this.#alloc.Job?.Name ?? this.#alloc.JobID,
      task,
      allocDir: new AllocDir(this.#deps.dataDir, this.#alloc.ID),
      driver: this.#deps.drivers.get(task.Driver) ?? missingDriver(task.Driver),
      logger: this.#deps.logger,
      onUpdate: (update) => this.#onTaskUpdate(update),
      ...(restoredState === undefined ? {} : { restoredState }),
      ...(task.Templates.length === 0 ? {} : { templates: this.#templates(task) }),
    });
    this.#records.set(task.Name, { state: runner.state(), handle: null });
    this.#tasks.set(task.Name, runner);
    return runner;
  }

  /**
   * The task's templates, reading variables with the task's own workload identity. The watch lists
   * under the task's own variable path, which the identity may always list and which contains few
   * variables, because the listing itself is not used.
   */
  #templates(task: Task): TaskTemplates {
    const alloc = this.#alloc;
    const variables = this.#deps.variables;
    const token = Object.hasOwn(alloc.SignedIdentities, task.Name)
      ? alloc.SignedIdentities[task.Name]
      : undefined;
    const reader =
      variables === undefined || typeof token !== 'string' || token === ''
        ? null
        : new RpcVariableReader(variables.rpc, variables.node, token);
    return new TaskTemplates({
      templates: task.Templates,
      namespace: alloc.Namespace,
      reader,
      watchPrefix: `nomad/jobs/${alloc.JobID}/${alloc.TaskGroup}/${task.Name}`.slice(0, MAX_PREFIX_CHARS),
      logger: this.#deps.logger.child({ allocId: alloc.ID, task: task.Name }),
    });
  }

  /** Writes the first record and reports; from here on every task update is saved and reported. */
  async #becomeReady(): Promise<void> {
    this.#ready = true;
    await this.#save();
    this.#report();
  }

  /** Records an allocation whose tasks cannot be known, with each task dead and failed. */
  async #failWithoutRunning(reason: string): Promise<void> {
    this.#logger.warn({ reason }, 'cannot run allocation');
    const now = Date.now();
    for (const name of Object.keys(this.#alloc.TaskResources)) {
      const state: TaskState = {
        State: 'dead',
        Failed: true,
        Restarts: 0,
        StartedAt: '',
        FinishedAt: new Date(now).toISOString(),
        Events: [
          { Type: TaskEventType.SetupFailure, Time: now * 1_000_000, DisplayMessage: reason, ExitCode: 0 },
        ],
      };
      this.#records.set(name, { state, handle: null });
    }
    await this.#becomeReady();
  }

  #onTaskUpdate(update: TaskRunnerUpdate): void {
    this.#records.set(update.taskName, { state: update.state, handle: update.handle });
    if (!this.#ready) return;
    void this.#save();
    this.#report();
  }

  #save(): Promise<void> {
    const record: AllocRecord = { alloc: this.#alloc, tasks: Object.fromEntries(this.#records) };
    return this.#deps.store.save(record).catch((err: unknown) => {
      this.#logger.error({ err }, 'cannot write the local state of the allocation');
    });
  }

  #report(): void {
    const taskStates = this.taskStates();
    const { status, description } = allocClientStatus(taskStates);
    this.#deps.report({
      ID: this.#alloc.ID,
      ClientStatus: status,
      ClientDescription: description,
      TaskStates: taskStates,
    });
  }
}

/** Maximum prefix length that the servers accept in `Variables.List`: the maximum variable path length. */
const MAX_PREFIX_CHARS = 128;

/** `state` as dead and failed now, with a Driver Failure event that gives `reason`. */
function failedState(state: TaskState, reason: string): TaskState {
  const now = Date.now();
  return {
    ...state,
    State: 'dead',
    Failed: true,
    FinishedAt: new Date(now).toISOString(),
    Events: [
      ...state.Events,
      { Type: TaskEventType.DriverFailure, Time: now * 1_000_000, DisplayMessage: reason, ExitCode: 0 },
    ].slice(-10),
  };
}
