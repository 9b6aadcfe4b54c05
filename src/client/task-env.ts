import type { Task } from '../structs/job.js';
import type { TaskDirPaths } from './alloc-dir.js';

/**
 * Host variables that never reach a task, as in Nomad's default client `env.denylist` (Nomad 1.3):
 * credentials that the client's own environment may carry.
 */
export const DEFAULT_HOST_ENV_DENYLIST: readonly string[] = Object.freeze([
  'CONSUL_TOKEN',
  'CONSUL_HTTP_TOKEN',
  'VAULT_TOKEN',
  'NOMAD_LICENSE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'GOOGLE_APPLICATION_CREDENTIALS',
]);

/**
 * Host variables that never reach a task, whatever the deny list, because they carry the agent's or
 * the operator's secrets and tasks are the least trusted code on a node:
 * - SIGNET_ENCRYPT, the cluster key. It authenticates server RPC and wraps the root keys, so a task
 *   that has it and a copy of the Raft data could sign workload identities and decrypt variables.
 * - SIGNET_TOKEN and NOMAD_TOKEN, the ACL token of the operator whose shell started the agent.
 *   A task gets NOMAD_TOKEN only from the client's identity hook, when its identity block sets
 *   `env = true`.
 * A task's own `env` block may still set these names.
 */
export const NEVER_PASSED_HOST_VARIABLES: ReadonlySet<string> = new Set([
  'SIGNET_ENCRYPT',
  'SIGNET_TOKEN',
  'NOMAD_TOKEN',
]);

export interface TaskEnvInput {
  readonly allocId: string;
  /** `JOB.GROUP[INDEX]`; NOMAD_ALLOC_INDEX is read from its brackets. */
  readonly allocName: string;
  readonly namespace: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly groupName: string;
  readonly task: Pick<Task, 'Name' | 'Env' | 'Resources'>;
  readonly taskDir: TaskDirPaths;
  /**
   * The client's own environment. Entries in `hostEnvDenylist` or NEVER_PASSED_HOST_VARIABLES and
   * undefined values are left out.
   */
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Default DEFAULT_HOST_ENV_DENYLIST. */
  readonly hostEnvDenylist?: readonly string[];
  /**
   * Variables set by client hooks (NOMAD_TOKEN from the workload identity, for example). They win
   * over the task's Env, as hook variables do in Nomad.
   */
  readonly hookEnv?: Readonly<Record<string, string>>;
}

/**
 * Builds a task's environment in the order of precedence of Nomad's client/taskenv package. The
 * host environment fills only names that nothing else sets, and never a name of
 * NEVER_PASSED_HOST_VARIABLES. The task's `env` block overrides the host variables and also the
 * NOMAD_* runtime variables, because Nomad lets it. Hook variables override the task's `env`.
 * `${NAME}` in a value of the task's `env` is replaced by the runtime or host variable NAME, and
 * left as it is when no such variable exists.
 *
 * The result may hold secrets: callers pass it to the driver and never log it.
 */
export function buildTaskEnv(input: TaskEnvInput): Record<string, string> {
  const runtime: Record<string, string> = {
    NOMAD_ALLOC_DIR: input.taskDir.sharedDir,
    NOMAD_TASK_DIR: input.taskDir.localDir,
    NOMAD_SECRETS_DIR: input.taskDir.secretsDir,
    NOMAD_ALLOC_ID: input.allocId,
    NOMAD_SHORT_ALLOC_ID: input.allocId.slice(0, 8),
    NOMAD_ALLOC_NAME: input.allocName,
    NOMAD_GROUP_NAME: input.groupName,
    NOMAD_TASK_NAME: input.task.Name,
    NOMAD_JOB_ID: input.jobId,
    NOMAD_JOB_NAME: input.jobName,
    NOMAD_NAMESPACE: input.namespace,
  };
  const allocIndex = allocIndexFromName(input.allocName);
  if (allocIndex !== null) runtime.NOMAD_ALLOC_INDEX = String(allocIndex);
  if (input.task.Resources.CPU > 0) runtime.NOMAD_CPU_LIMIT = String(input.task.Resources.CPU);
  if (input.task.Resources.MemoryMB > 0) runtime.NOMAD_MEMORY_LIMIT = String(input.task.Resources.MemoryMB);

  const env: Record<string, string> = { ...runtime };
  const denied = new Set(input.hostEnvDenylist ?? DEFAULT_HOST_ENV_DENYLIST);
  for (const [name, value] of Object.entries(input.hostEnv ?? {})) {
    if (value === undefined || denied.has(name) || NEVER_PASSED_HOST_VARIABLES.has(name) || name in env)
      continue;
    env[name] = value;
  }

  // Interpolation reads a copy taken before the task's variables go in, so the result does not
  // depend on the order of the `env` block.
  const known = { ...env };
  for (const [name, value] of Object.entries(input.task.Env ?? {})) {
    env[name] = interpolate(value, known);
  }
  for (const [name, value] of Object.entries(input.hookEnv ?? {})) {
    env[name] = value;
  }
  return env;
}

/** Reads INDEX from an allocation name `JOB.GROUP[INDEX]`; null when the name has no index. */
export function allocIndexFromName(allocName: string): number | null {
  const match = /\[(\d+)\]$/.exec(allocName);
  if (match === null) return null;
  const index = Number(match[1]);
  return Number.isSafeInteger(index) ? index : null;
}

function interpolate(value: string, known: Readonly<Record<string, string>>): string {
  return value.replace(/\$\{([^{}]+)\}/g, (whole, name: string) => known[name] ?? whole);
}
