import type { Resources } from './job.js';

export type AllocDesiredStatus = 'run' | 'stop' | 'evict';
export type AllocClientStatus = 'pending' | 'running' | 'complete' | 'failed' | 'lost';

/** State of one task as its client reports it. */
export interface TaskState {
  readonly State: 'pending' | 'running' | 'dead';
  readonly Failed: boolean;
  readonly Restarts: number;
  /** RFC 3339 times, '' until they happen, as in Nomad's API. */
  readonly StartedAt: string;
  readonly FinishedAt: string;
  readonly Events: readonly TaskEvent[];
}

export interface TaskEvent {
  readonly Type: string;
  /** Unix time in nanoseconds. */
  readonly Time: number;
  readonly DisplayMessage: string;
  readonly ExitCode: number;
}

/** One placement of one task group of a job on one node, in Nomad's JSON shape. */
export interface Allocation {
  readonly ID: string;
  readonly Namespace: string;
  readonly EvalID: string;
  /** `JOB.GROUP[INDEX]`, as Nomad names allocations. */
  readonly Name: string;
  readonly NodeID: string;
  readonly NodeName: string;
  readonly JobID: string;
  /** JobModifyIndex of the job version the allocation runs. */
  readonly JobVersion: number;
  readonly TaskGroup: string;
  /** Resources reserved on the node, by task. */
  readonly TaskResources: Readonly<Record<string, Resources>>;
  readonly DesiredStatus: AllocDesiredStatus;
  readonly DesiredDescription: string;
  readonly ClientStatus: AllocClientStatus;
  readonly ClientDescription: string;
  readonly TaskStates: Readonly<Record<string, TaskState>>;
  /**
   * Workload identity tokens (JWTs) of the tasks' default identities, by task name; empty until
   * the plan applier signs them. Replicated and sent to the allocation's own client, but never in
   * an HTTP response.
   */
  readonly SignedIdentities: Readonly<Record<string, string>>;
  /** Root key id that signed SignedIdentities, or ''. */
  readonly SigningKeyID: string;
  /** Allocation that this one replaces (after a node was lost), or ''. */
  readonly PreviousAllocation: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  /** Raft index of the last change the servers made (not the client's status reports). */
  readonly AllocModifyIndex: number;
  /** Unix times in nanoseconds. */
  readonly CreateTime: number;
  readonly ModifyTime: number;
}

/**
 * True once the client reports that the allocation ended, or the servers marked it lost. Its
 * tasks no longer run, so its workload identities no longer verify (as Nomad 1.7 and later judge
 * them), and the root key that signed them is no longer in use for it.
 */
export function isClientTerminal(status: AllocClientStatus): boolean {
  return status === 'complete' || status === 'failed' || status === 'lost';
}

/** True once an allocation can no longer run: stopped by the servers, or finished on its client. */
export function isTerminal(alloc: Pick<Allocation, 'DesiredStatus' | 'ClientStatus'>): boolean {
  return alloc.DesiredStatus !== 'run' || isClientTerminal(alloc.ClientStatus);
}
