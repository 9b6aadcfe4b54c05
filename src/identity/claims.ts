import { randomUUID } from 'node:crypto';
import type { Allocation } from '../structs/allocation.js';
import type { Job, Task, WorkloadIdentity } from '../structs/job.js';

/**
 * Claims of a workload identity token, with Nomad's names. The four `nomad_*` claims name the
 * workload, and the registered JWT claims (RFC 7519) follow Nomad 1.7 and later.
 */
export interface IdentityClaims {
  readonly nomad_namespace: string;
  /** The job's id, or its parent's id for a dispatched or periodic child job. */
  readonly nomad_job_id: string;
  readonly nomad_allocation_id: string;
  readonly nomad_task: string;
  /** Seconds since the Unix epoch. */
  readonly iat: number;
  readonly nbf: number;
  /** Present only when the identity has a TTL. */
  readonly exp?: number;
  readonly aud: readonly string[];
  /** `REGION:NAMESPACE:JOB:GROUP:TASK:IDENTITY`. */
  readonly sub: string;
  /** A fresh UUID for each signature. */
  readonly jti: string;
  /** Present only when the server sets `oidc_issuer`. */
  readonly iss?: string;
}

/** Audience of every default identity, whatever its `identity` block sets, as in Nomad 1.7 and later. */
export const DEFAULT_AUDIENCE = 'nomadproject.io';

/** Name of a task's default identity, the one the plan applier signs. */
export const DEFAULT_IDENTITY_NAME = 'default';

/** The default identity of a task without an `identity` block: not exposed to the task, no expiry. */
export const DEFAULT_IDENTITY: WorkloadIdentity = Object.freeze({
  Name: DEFAULT_IDENTITY_NAME,
  Audience: Object.freeze([DEFAULT_AUDIENCE]),
  Env: false,
  File: false,
  TTL: 0,
});

/** Returns the task's default identity: its `identity` block, or the built-in one. */
export function taskIdentity(task: Pick<Task, 'Identity'>): WorkloadIdentity {
  return task.Identity ?? DEFAULT_IDENTITY;
}

export interface IdentityClaimsInput {
  readonly alloc: Pick<Allocation, 'ID' | 'Namespace' | 'TaskGroup'>;
  readonly job: Pick<Job, 'ID' | 'ParentID'>;
  readonly task: Pick<Task, 'Name' | 'Identity'>;
  /** Identity to build the claims of; the task's default identity when absent. */
  readonly identity?: WorkloadIdentity;
  /** Region of the signing server, the first part of `sub`. */
  readonly region: string;
  /** `server.oidc_issuer`; null or '' leaves out `iss`. */
  readonly issuer?: string | null;
  /** Signing time, Unix milliseconds. */
  readonly now: number;
}

/**
 * Builds the claims of one task's identity, with a fresh `jti`. A child job's tokens name its
 * parent in `nomad_job_id` and `sub`, so that a dispatched or periodic instance gets the parent's
 * access. `exp` is set only for a TTL above zero, `iss` only with an issuer.
 */
export function identityClaims(input: IdentityClaimsInput): IdentityClaims {
  const { alloc, job, task, region, issuer, now } = input;
  const identity = input.identity ?? taskIdentity(task);
  const jobId = job.ParentID || job.ID;
  const iat = Math.floor(now / 1000);
  const aud = identity.Name === DEFAULT_IDENTITY_NAME ? [DEFAULT_AUDIENCE] : [...identity.Audience];

  const claims: { -readonly [K in keyof IdentityClaims]: IdentityClaims[K] } = {
    nomad_namespace: alloc.Namespace,
    nomad_job_id: jobId,
    nomad_allocation_id: alloc.ID,
    nomad_task: task.Name,
    aud,
    sub: `${region}:${alloc.Namespace}:${jobId}:${alloc.TaskGroup}:${task.Name}:${identity.Name}`,
    jti: randomUUID(),
    iat,
    nbf: iat,
  };
  // TTL is in nanoseconds, and exp is whole seconds rounded down, as a JWT NumericDate usually is.
  if (identity.TTL > 0) claims.exp = Math.floor((now + identity.TTL / 1_000_000) / 1000);
  if (issuer) claims.iss = issuer;
  return claims;
}
