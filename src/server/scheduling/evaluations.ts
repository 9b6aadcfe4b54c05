import type { EvalTrigger, Evaluation } from '../../structs/evaluation.js';
import type { Job } from '../../structs/job.js';

/** Builds a pending evaluation of `job` (or of a job that is gone: type and priority then come from `fallback`). */
export function newEvaluation(fields: {
  readonly id: string;
  readonly namespace: string;
  readonly jobId: string;
  readonly job: Pick<Job, 'Priority' | 'Type'> | null;
  readonly trigger: EvalTrigger;
  readonly now: number;
  readonly nodeId?: string;
}): Evaluation {
  return {
    ID: fields.id,
    Namespace: fields.namespace,
    Priority: fields.job?.Priority ?? 50,
    Type: fields.job?.Type ?? 'service',
    TriggeredBy: fields.trigger,
    JobID: fields.jobId,
    JobModifyIndex: 0,
    NodeID: fields.nodeId ?? '',
    Status: 'pending',
    StatusDescription: '',
    BlockedEval: '',
    PreviousEval: '',
    QueuedAllocations: {},
    CreateIndex: 0,
    ModifyIndex: 0,
    CreateTime: fields.now,
    ModifyTime: fields.now,
  };
}

/** Unix time in nanoseconds, the unit of Nomad's create and modify times. */
export function nowNanos(): number {
  return Date.now() * 1_000_000;
}
