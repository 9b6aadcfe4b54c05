import type { Entry, NodeId, SnapshotMeta } from './types.js';

/**
 * Raft messages between servers. Every message is one member of this union, tagged by `type`,
 * and carries the protocol version so that later versions can add types.
 */
export const PROTOCOL_VERSION = 1;

interface Header {
  /** Protocol version, `PROTOCOL_VERSION` for messages built by this code. */
  readonly v: number;
  readonly from: NodeId;
  readonly to: NodeId;
  /** Sender's term (for pre-vote requests, the term the sender would campaign in). */
  readonly term: number;
}

/** RequestVote, or a PreVote probe when `preVote` is set. */
export interface VoteRequest extends Header {
  readonly type: 'vote-request';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set by a leadership-transfer target, so that voters skip the leader-lease check. */
  readonly transfer: boolean;
}

export interface VoteResponse extends Header {
  readonly type: 'vote-response';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** AppendEntries. An append with no entries still checks (prevIndex, prevTerm). */
export interface AppendRequest extends Header {
  readonly type: 'append-request';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendResponse extends Header {
  readonly type: 'append-response';
  readonly success: boolean;
  /** On success, the last index that this request verified; on rejection, the request's prevIndex. */
  readonly index: number;
  /** On rejection: an index at or below prevIndex where the follower's log may match, and its term there. */
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/** Leader heartbeat. `commit` is capped at what the follower is known to hold. */
export interface HeartbeatRequest extends Header {
  readonly type: 'heartbeat-request';
  readonly commit: number;
  /** ReadIndex round being confirmed, or 0. */
  readonly readRound: number;
}

export interface HeartbeatResponse extends Header {
  readonly type: 'heartbeat-response';
  readonly readRound: number;
}

/** One chunk of InstallSnapshot. Chunks of one snapshot share `meta`; `done` marks the last. */
export interface SnapshotRequest extends Header {
  readonly type: 'snapshot-request';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly data: Uint8Array;
  readonly done: boolean;
}

export interface SnapshotResponse extends Header {
  readonly type: 'snapshot-response';
  readonly snapshotIndex: number;
  /** Bytes of the snapshot received so far; the leader sends the next chunk from here. */
  readonly nextOffset: number;
  /** Set once the follower has installed the snapshot (or already had everything it covers). */
  readonly installed: boolean;
  /** The follower's last log index after installation. */
  readonly lastIndex: number;
}

/** Sent by a leader to its leadership-transfer target: start an election now. */
export interface TimeoutNow extends Header {
  readonly type: 'timeout-now';
}

/** A follower requests a read index from the leader on behalf of a local reader. */
export interface ReadIndexRequest extends Header {
  readonly type: 'read-index-request';
  readonly requestId: number;
}

export interface ReadIndexResponse extends Header {
  readonly type: 'read-index-response';
  readonly requestId: number;
  /** The read index, or 0 when the leader could not serve the request. */
  readonly index: number;
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | SnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];
