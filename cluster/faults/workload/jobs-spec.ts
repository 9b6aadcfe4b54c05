import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Prefix of every job the fault suite registers, so that its checks can list them apart. */
export const JOB_PREFIX = 'faults-job-';
export const JOB_GROUP = 'g';
export const JOB_TASK = 'sleeper';
/** Namespace of the fault suite's jobs; it exists in every cluster. */
export const JOB_NAMESPACE = 'default';

/** File in a task's secrets folder where its client writes the default identity (`file = true`). */
const TOKEN_FILE = 'nomad_token';

/**
 * Builds the body of a job registration: one group of `count` allocations whose raw_exec task
 * sleeps for an hour, with its default identity written to `secrets/nomad_token`. The small CPU
 * and memory requests let two client nodes take every job the load keeps registered at once.
 */
export function jobRegistration(id: string, count: number): unknown {
  return {
    Job: {
      ID: id,
      Namespace: JOB_NAMESPACE,
      Type: 'service',
      TaskGroups: [
        {
          Name: JOB_GROUP,
          Count: count,
          Tasks: [
            {
              Name: JOB_TASK,
              Driver: 'raw_exec',
              Config: { command: '/bin/sleep', args: ['3600'] },
              Resources: { CPU: 20, MemoryMB: 16 },
              Identity: { Name: 'default', Env: false, File: true },
            },
          ],
        },
      ],
    },
  };
}

/**
 * Reads the identity that a client agent handed to task `task` of allocation `allocId`, from the
 * client's data folder (`DATA/alloc/ALLOC/TASK/secrets/nomad_token`). Tries each client's folder,
 * because the caller does not know which node runs the allocation. Returns null when no client
 * has the file, or the file is empty. The token is a bearer secret: callers must not log it.
 */
export async function readTaskToken(
  clientDataDirs: readonly string[],
  allocId: string,
  task: string,
): Promise<string | null> {
  for (const dataDir of clientDataDirs) {
    const path = join(dataDir, 'alloc', allocId, task, 'secrets', TOKEN_FILE);
    try {
      const token = (await readFile(path, 'utf8')).trim();
      if (token !== '') return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return null;
}

/**
 * Path of the request that tests an identity on one server: a `stale` read of the job's own
 * variable, which every workload identity of the job may read. `stale` makes the server that
 * received the request reply from its own state, so the reply shows whether that server verified
 * the token. `agent/self` would not do: it needs `agent:read`, which no workload identity has.
 */
export function identityProbePath(jobId: string): string {
  return `/v1/var/nomad/jobs/${jobId}?namespace=${JOB_NAMESPACE}&stale=true`;
}

/** True for a probe reply that shows the server accepted the identity: the variable, or 404 when it is absent. */
export function identityAccepted(status: number | null): boolean {
  return status === 200 || status === 404;
}

/** Status of a probe reply that shows the server refused the identity. */
export const IDENTITY_REFUSED = 403;
