import type { Allocation } from '../../structs/allocation.js';
import type { Job, JobType } from '../../structs/job.js';
import type { Node } from '../../structs/node.js';

/**
 * JSON shapes that the API returns for state rows: Nomad's list stubs, and full rows with their
 * secrets left out. Every route builds its replies from these, so no route can leak a node's
 * SecretID or an allocation's signed identities by returning a row as it is stored.
 */

/** A row of `GET /v1/jobs`, Nomad's JobListStub without JobSummary, Periodic and Meta. */
export interface JobListStub {
  readonly ID: string;
  readonly ParentID: string;
  readonly Name: string;
  readonly Namespace: string;
  readonly Datacenters: readonly string[];
  readonly Type: JobType;
  readonly Priority: number;
  readonly Stop: boolean;
  readonly Status: string;
  readonly StatusDescription: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly JobModifyIndex: number;
  readonly SubmitTime: number;
}

export function jobListStub(job: Job): JobListStub {
  return {
    ID: job.ID,
    ParentID: job.ParentID,
    Name: job.Name,
    Namespace: job.Namespace,
    Datacenters: job.Datacenters,
    Type: job.Type,
    Priority: job.Priority,
    Stop: job.Stop,
    Status: job.Status,
    // Signet sets no status description on jobs; Nomad sends the empty string in that case too.
    StatusDescription: '',
    CreateIndex: job.CreateIndex,
    ModifyIndex: job.ModifyIndex,
    JobModifyIndex: job.JobModifyIndex,
    SubmitTime: job.SubmitTime,
  };
}

/** A row of the allocation lists, Nomad's AllocListStub without resources and follow-up IDs. */
export type AllocListStub = Omit<
  Allocation,
  'TaskResources' | 'AllocModifyIndex' | 'SignedIdentities' | 'SigningKeyID'
> & {
  /** Type of the allocation's job, or '' once the job is purged. */
  readonly JobType: JobType | '';
};

export function allocListStub(alloc: Allocation, jobType: JobType | ''): AllocListStub {
  return {
    ID: alloc.ID,
    EvalID: alloc.EvalID,
    Name: alloc.Name,
    Namespace: alloc.Namespace,
    NodeID: alloc.NodeID,
    NodeName: alloc.NodeName,
    JobID: alloc.JobID,
    JobType: jobType,
    JobVersion: alloc.JobVersion,
    TaskGroup: alloc.TaskGroup,
    DesiredStatus: alloc.DesiredStatus,
    DesiredDescription: alloc.DesiredDescription,
    ClientStatus: alloc.ClientStatus,
    ClientDescription: alloc.ClientDescription,
    TaskStates: alloc.TaskStates,
    PreviousAllocation: alloc.PreviousAllocation,
    CreateIndex: alloc.CreateIndex,
    ModifyIndex: alloc.ModifyIndex,
    CreateTime: alloc.CreateTime,
    ModifyTime: alloc.ModifyTime,
  };
}

/**
 * A full allocation as `GET /v1/allocation/:id` returns it: without the signed workload
 * identities, which as in Nomad never leave the servers except to the allocation's own client.
 */
export function publicAllocation(alloc: Allocation): PublicAllocation {
  const { SignedIdentities: _signed, ...rest } = alloc;
  return rest;
}

export type PublicAllocation = Omit<Allocation, 'SignedIdentities'>;

/** A row of `GET /v1/nodes`, Nomad's NodeListStub without address, pool and version fields. */
export type NodeListStub = Pick<
  Node,
  | 'ID'
  | 'Name'
  | 'Datacenter'
  | 'NodeClass'
  | 'Status'
  | 'StatusDescription'
  | 'SchedulingEligibility'
  | 'Drivers'
  | 'CreateIndex'
  | 'ModifyIndex'
>;

export function nodeListStub(node: Node): NodeListStub {
  return {
    ID: node.ID,
    Name: node.Name,
    Datacenter: node.Datacenter,
    NodeClass: node.NodeClass,
    Status: node.Status,
    StatusDescription: node.StatusDescription,
    SchedulingEligibility: node.SchedulingEligibility,
    Drivers: node.Drivers,
    CreateIndex: node.CreateIndex,
    ModifyIndex: node.ModifyIndex,
  };
}

/** A node without `SecretID`, which authenticates its client agent and never leaves the servers. */
export type PublicNode = Omit<Node, 'SecretID'>;

export function publicNode(node: Node): PublicNode {
  const { SecretID: _secret, ...rest } = node;
  return rest;
}
