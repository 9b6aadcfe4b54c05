import type { NodeId } from './types.js';

/** Expected outcomes that a caller of the core handles; a broken invariant throws a plain Error instead. */
export type RaftErrorCode =
  | 'NOT_LEADER'
  | 'TRANSFER_IN_PROGRESS'
  | 'PROPOSAL_DROPPED'
  | 'MEMBERSHIP_CHANGE_PENDING'
  | 'MEMBERSHIP_CHANGE_INVALID'
  | 'TRANSFER_INVALID'
  | 'SNAPSHOT_INVALID'
  | 'NO_LEADER'
  /** A proposal was appended, but this server cannot tell whether it committed: read before retrying. */
  | 'OUTCOME_UNKNOWN';

export class RaftError extends Error {
  override readonly name = 'RaftError';
  readonly code: RaftErrorCode;
  /** Leader known to the server that raised the error, or 0. Lets a caller forward the request. */
  readonly leaderId: NodeId;

  constructor(code: RaftErrorCode, message: string, leaderId: NodeId = 0) {
    super(message);
    this.code = code;
    this.leaderId = leaderId;
  }
}
