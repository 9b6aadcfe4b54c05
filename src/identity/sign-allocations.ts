import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SigningKey } from '../keyring/index.js';
import type { Allocation } from '../structs/allocation.js';
import type { Job, TaskGroup } from '../structs/job.js';
import { identityClaims } from './claims.js';
import { IdentityError } from './errors.js';
import { signIdentity } from './sign.js';

/**
 * Signing time between two yields to the event loop, in milliseconds. A server blocks its event loop
 * for no more than about 10 ms at a time, so that heartbeats and Raft ticks keep their timing. One
 * identity takes about 40 µs to sign (bench/identity.ts on a 2-core VM), so a chunk ends within
 * one signature of this budget. Garbage collection pauses come on top.
 */
export const SIGNING_CHUNK_MS = 4;

export interface SignAllocationsContext {
  /** Looks up an allocation's job in the state the plan is applied against. */
  job(namespace: string, jobId: string): Job | null;
  /** Signing key of the keyring's active root key. */
  readonly key: SigningKey;
  /** Region of the signing server, the first part of `sub`. */
  readonly region: string;
  /** `server.oidc_issuer`; null or '' leaves out `iss`. */
  readonly issuer?: string | null;
  /** Signing time, Unix milliseconds, the same for every token of the plan. */
  readonly now: number;
}

/**
 * Signs the default identity of every task of each allocation's task group that has no token yet,
 * and returns the allocations in the same order. An allocation that gained a token is a copy with
 * SigningKeyID set to the key's id. An allocation whose tasks were all signed already is returned
 * as it was, because its tokens keep their key.
 *
 * The work is split into chunks of about SIGNING_CHUNK_MS, with a yield to the event loop
 * (setImmediate) between them, so a plan of thousands of tasks does not delay heartbeats. Rejects
 * with an IdentityError (JOB_NOT_FOUND, TASK_GROUP_NOT_FOUND) when an allocation's job or group is
 * missing, and returns no allocation at all: the caller fails the plan.
 */
export async function signAllocations(
  allocs: readonly Allocation[],
  ctx: SignAllocationsContext,
): Promise<Allocation[]> {
  // A plan usually places many allocations of one job, so each job is looked up once.
  const jobs = new Map<string, Job | null>();
  const jobOf = (alloc: Allocation): Job | null => {
    const key = `${alloc.Namespace}\u0000${alloc.JobID}`;
    let job = jobs.get(key);
    if (job === undefined) {
      job = ctx.job(alloc.Namespace, alloc.JobID);
      jobs.set(key, job);
    }
    return job;
  };

  const signed: Allocation[] = [];
  let chunkStart = performance.now();
  for (const alloc of allocs) {
    const job = jobOf(alloc);
    if (job === null) throw jobNotFound(alloc);
    const group = taskGroupOf(alloc, job);
    const identities = new Map(Object.entries(alloc.SignedIdentities));
    const before = identities.size;

    for (const task of group.Tasks) {
      if (identities.has(task.Name)) continue;
      const claims = identityClaims({
        alloc,
        job,
        task,
        region: ctx.region,
        issuer: ctx.issuer ?? null,
        now: ctx.now,
      });
      identities.set(task.Name, signIdentity(ctx.key, claims));

      if (performance.now() - chunkStart >= SIGNING_CHUNK_MS) {
        await yieldToEventLoop();
        chunkStart = performance.now();
      }
    }

    if (identities.size === before) {
      signed.push(alloc);
    } else {
      // NOTE: tokens kept from an earlier plan may carry another kid than SigningKeyID, as in
      // Nomad. Removing that older key would then break them, because only SigningKeyID marks a
      // key as in use.
      signed.push({
        ...alloc,
        // Object.fromEntries makes own properties for every name, `__proto__` included.
        SignedIdentities: Object.fromEntries(identities),
        SigningKeyID: ctx.key.keyId,
      });
    }
  }
  return signed;
}

function jobNotFound(alloc: Allocation): IdentityError {
  return new IdentityError(
    'JOB_NOT_FOUND',
    `cannot sign identities of allocation ${alloc.ID}: job ${JSON.stringify(alloc.JobID)} in namespace ${alloc.Namespace} does not exist`,
    { allocationId: alloc.ID },
  );
}

function taskGroupOf(alloc: Allocation, job: Job): TaskGroup {
  const group = job.TaskGroups.find((candidate) => candidate.Name === alloc.TaskGroup);
  if (group === undefined) {
    throw new IdentityError(
      'TASK_GROUP_NOT_FOUND',
      `cannot sign identities of allocation ${alloc.ID}: job ${JSON.stringify(alloc.JobID)} in namespace ${alloc.Namespace} has no task group ${JSON.stringify(alloc.TaskGroup)}`,
      { allocationId: alloc.ID },
    );
  }
  return group;
}
