import type { Task } from '../structs/job.js';
import { writeSecretFile } from './secret-file.js';

/** File in the task's secrets folder that receives the default identity when `file = true`. */
export const NOMAD_TOKEN_FILE = 'nomad_token';
/** Task variable that receives the default identity when `env = true`. */
export const NOMAD_TOKEN_ENV = 'NOMAD_TOKEN';

/**
 * Thrown when a task's identity block requests its token but the allocation carries none for the
 * task, for example an allocation placed before the servers signed identities.
 */
export class MissingIdentityError extends Error {
  override readonly name = 'MissingIdentityError';
  readonly code = 'MISSING_WORKLOAD_IDENTITY';
  readonly taskName: string;

  constructor(taskName: string) {
    super(
      `missing workload identity for task ${JSON.stringify(taskName)}: its identity block requests the token, but the allocation carries none for the task`,
    );
    this.taskName = taskName;
  }
}

export interface TaskIdentityInput {
  readonly task: Pick<Task, 'Name' | 'Identity'>;
  /** The allocation's SignedIdentities: default identity tokens by task name. */
  readonly signedIdentities: Readonly<Record<string, string>>;
  /** The task's secrets folder (owner-only). */
  readonly secretsDir: string;
}

/**
 * Hands a task its default workload identity as its `identity` block requests, before it starts.
 * With `file = true` the token is written to `secrets/nomad_token` (mode 0600, never through a
 * symlink). With `env = true` the returned variables contain NOMAD_TOKEN, for the task's environment.
 * A task without an identity block, or with neither flag, gets nothing and `{}` is returned.
 * Throws MissingIdentityError when a flag is set and the allocation has no token for the task.
 * The token is a secret, so no error thrown here contains it.
 */
export async function exposeDefaultIdentity(input: TaskIdentityInput): Promise<Record<string, string>> {
  const { task } = input;
  const identity = task.Identity;
  if (identity === null || (!identity.File && !identity.Env)) return {};

  // Object.hasOwn, so that a task named like an Object.prototype member finds no inherited value.
  const token = Object.hasOwn(input.signedIdentities, task.Name)
    ? input.signedIdentities[task.Name]
    : undefined;
  if (typeof token !== 'string' || token === '') throw new MissingIdentityError(task.Name);

  if (identity.File) await writeSecretFile(input.secretsDir, NOMAD_TOKEN_FILE, token);
  return identity.Env ? { [NOMAD_TOKEN_ENV]: token } : {};
}
