/** Why an evaluation was created, in Nomad's words. */
export type EvalTrigger =
  | 'job-register'
  | 'job-deregister'
  | 'node-update'
  | 'alloc-failure'
  | 'queued-allocs'
  | 'alloc-stop';

export type EvalStatus = 'pending' | 'complete' | 'failed' | 'blocked' | 'canceled';

/** A request to reconcile one job's allocations with its spec, in Nomad's JSON shape. */
export interface Evaluation {
  readonly ID: string;
  readonly Namespace: string;
  readonly Priority: number;
  readonly Type: 'service' | 'batch';
  readonly TriggeredBy: EvalTrigger;
  readonly JobID: string;
  /** JobModifyIndex of the job version this evaluation was created for. */
  readonly JobModifyIndex: number;
  /** Node whose change triggered the evaluation, or ''. */
  readonly NodeID: string;
  readonly Status: EvalStatus;
  readonly StatusDescription: string;
  /** Evaluation created for the allocations this one could not place, or ''. */
  readonly BlockedEval: string;
  /** Evaluation this one follows up on, or ''. */
  readonly PreviousEval: string;
  /** Task groups with allocations that could not be placed, and how many. */
  readonly QueuedAllocations: Readonly<Record<string, number>>;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  /** Unix times in nanoseconds. */
  readonly CreateTime: number;
  readonly ModifyTime: number;
}
