/** Expected outcomes that callers of the broker and the plan queue switch on. */
export type SchedulerErrorCode =
  /** The broker is disabled because this server is not the leader. */
  | 'BROKER_DISABLED'
  /** The plan queue is disabled because this server is not the leader. */
  | 'PLAN_QUEUE_DISABLED'
  /** The evaluation is not delivered to any worker: it was acked, nacked, redelivered or dropped. */
  | 'EVAL_NOT_OUTSTANDING'
  /** The evaluation is outstanding under another delivery token, so the caller's delivery timed out. */
  | 'TOKEN_MISMATCH';

export class SchedulerError extends Error {
  override readonly name = 'SchedulerError';
  readonly code: SchedulerErrorCode;
  /** Evaluation the error is about, or ''. */
  readonly evalId: string;

  constructor(code: SchedulerErrorCode, message: string, evalId = '') {
    super(message);
    this.code = code;
    this.evalId = evalId;
  }
}
