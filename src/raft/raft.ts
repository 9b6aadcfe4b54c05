import { type RaftOptions, type ResolvedRaftOptions, resolveRaftOptions } from './config.js';
import { RaftError } from './errors.js';
import { entryBytes, RaftLog } from './log.js';
import { applyMembershipChange, isMember, isVoter, MembershipLog, members } from './membership.js';
import type {
  AppendRequest,
  AppendResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  Message,
  ReadIndexRequest,
  ReadIndexResponse,
  SnapshotRequest,
  SnapshotResponse,
  VoteRequest,
  VoteResponse,
} from './messages.js';
import { PROTOCOL_VERSION } from './messages.js';
import { Progress } from './progress.js';
import { quorumIndex, quorumSize, tallyVotes } from './quorum.js';
import { ReadIndexQueue } from './read-index.js';
import { SnapshotReceiver } from './snapshot-receiver.js';
import type {
  DurableState,
  Entry,
  HardState,
  Membership,
  MembershipChange,
  NodeId,
  PersistBatch,
  ReadState,
  Role,
  Snapshot,
  SoftState,
} from './types.js';
import { NO_NODE } from './types.js';
import { validateDurableState } from './validate-durable-state.js';
import { MAX_TERM, validateMessage } from './validate-message.js';

export type { RaftOptions } from './config.js';

/**
 * One batch of work for the driver, to be carried out in this order: make `persist` durable,
 * send `messages`, restore `snapshotToRestore` into the state machine, apply `committedEntries`,
 * then call `advance(ready)`. Messages go out only after persistence because votes and append
 * acknowledgements promise that the state behind them is on disk.
 */
export interface Ready {
  readonly persist: PersistBatch | null;
  readonly messages: readonly Message[];
  readonly snapshotToRestore: Snapshot | null;
  readonly committedEntries: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /** Ids of `readIndex` requests that cannot complete (leader lost or unknown); retry them. */
  readonly failedReads: readonly number[];
  readonly softState: SoftState | null;
  /** Last entry in `persist`, used by `advance`. */
  readonly lastPersisted: { readonly index: number; readonly term: number } | null;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  /** Term of the entry at `lastIndex` (of the snapshot when the log is empty); 0 for an empty log. */
  readonly lastLogTerm: number;
  readonly snapshotIndex: number;
  /** Term of the stored snapshot, 0 for none. */
  readonly snapshotTerm: number;
  readonly role: Role;
  readonly leaderId: NodeId;
  readonly membership: Membership;
  readonly transferTarget: NodeId;
}

/** Committed entries handed to the application in one ready batch, at most (bytes). */
const MAX_APPLY_BYTES = 4 * 1024 * 1024;

/**
 * The Raft consensus core: a deterministic state machine with no timers, sockets, disk or
 * randomness of its own. The driver feeds it ticks, messages and proposals and carries out the
 * `Ready` batches it returns. Every method runs synchronously and does no I/O.
 */
export class RaftNode {
  readonly #options: ResolvedRaftOptions;
  readonly id: NodeId;
  readonly #log: RaftLog;
  readonly #memberships: MembershipLog;

  #term: number;
  #vote: NodeId;
  #role: Role = 'follower';
  #leaderId: NodeId = NO_NODE;

  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  /** Ticks since this server became leader; dates the last response of each follower. */
  #leaderTicks = 0;
  #randomizedElectionTimeout = 0;

  #votes = new Map<NodeId, boolean>();
  #progress = new Map<NodeId, Progress>();
  #transferTarget: NodeId = NO_NODE;
  #transferElapsed = 0;
  /** Ticks until the leader stops replicating to servers removed by a committed change; 0 when none is due. */
  #pruneCountdown = 0;
  #uncommittedBytes = 0;
  /** Reads that arrived before this leader committed an entry of its term. */
  #deferredReads: { requestId: number; from: NodeId }[] = [];
  #reads = new ReadIndexQueue();
  /** Reads forwarded to the leader, by request id, with the leader they went to and the tick they left. */
  #forwardedReads = new Map<number, { leaderId: NodeId; sentAt: number }>();
  /** Ticks since this core started; dates forwarded reads. */
  #ticks = 0;
  #snapshotReceiver = new SnapshotReceiver();

  // Output waiting for the next ready batch.
  #messages: Message[] = [];
  #readStates: ReadState[] = [];
  #failedReads: number[] = [];
  /** Snapshot to write in the next batch (received from the leader, or taken by the application). */
  #snapshotToPersist: Snapshot | null = null;
  #snapshotToRestore: Snapshot | null = null;
  #compactTo: number | null = null;
  #truncatePending = false;
  #persistedHardState: HardState;
  /** Term of the hard state that storage has acknowledged, as opposed to one in a batch in flight. */
  #durableTerm: number;
  #reportedSoftState: SoftState;

  /** Highest index handed to the application, possibly not yet acknowledged by `advance`. */
  #applying: number;
  #readyInFlight = false;

  constructor(options: RaftOptions, durable: DurableState) {
    this.#options = resolveRaftOptions(options);
    this.id = this.#options.id;
    validateDurableState(durable);
    this.#log = new RaftLog(durable);
    this.#term = durable.hardState.term;
    this.#vote = durable.hardState.vote;
    this.#persistedHardState = durable.hardState;
    this.#durableTerm = durable.hardState.term;
    this.#applying = this.#log.applied;

    const snapshot = durable.snapshot;
    this.#memberships = new MembershipLog({
      index: snapshot?.meta.index ?? 0,
      membership: snapshot?.meta.membership ?? { voters: [], learners: [], removed: [] },
    });
    for (const entry of durable.entries) {
      if (entry.kind === 'config' && entry.index > (snapshot?.meta.index ?? 0)) {
        this.#memberships.append(entry.index, entry.membership);
      }
    }
    this.#resetElectionTimer();
    this.#reportedSoftState = this.#softState();
  }

  // ---------------------------------------------------------------- inputs

  /** Advances logical time by one tick: elections and heartbeats are counted in ticks. */
  tick(): void {
    this.#ticks++;
    if (this.#forwardedReads.size > 0) this.#failForwardedReads();
    if (this.#role === 'leader') {
      this.#tickLeader();
    } else {
      this.#electionElapsed++;
      if (this.#promotable() && this.#electionElapsed >= this.#randomizedElectionTimeout) {
        this.#startElection(false);
      }
    }
  }

  /** Starts an election now, as if the election timeout had fired. Ignored on a leader or a non-voter. */
  campaign(): void {
    if (this.#role !== 'leader' && this.#promotable()) this.#startElection(false);
  }

  /** Appends a command to the log. Returns its position; it is committed once applied at that index and term. */
  propose(data: Uint8Array): { index: number; term: number } {
    if (!(data instanceof Uint8Array)) {
      throw new RaftError(
        'PROPOSAL_DROPPED',
        `proposal dropped: data must be a Uint8Array, got ${describeValue(data)}`,
      );
    }
    this.#checkCanPropose();
    if (data.length > this.#options.maxEntryBytes) {
      throw new RaftError(
        'PROPOSAL_DROPPED',
        `proposal dropped: ${data.length} bytes exceed the maximum entry size of ${this.#options.maxEntryBytes} bytes`,
        this.id,
      );
    }
    if (
      this.#uncommittedBytes > 0 &&
      this.#uncommittedBytes + data.length > this.#options.maxUncommittedBytes
    ) {
      throw new RaftError(
        'PROPOSAL_DROPPED',
        `proposal dropped: ${this.#uncommittedBytes} bytes are uncommitted, limit ${this.#options.maxUncommittedBytes}; retry after commits catch up`,
        this.id,
      );
    }
    const entry: Entry = { kind: 'command', term: this.#term, index: this.#log.lastIndex() + 1, data };
    this.#uncommittedBytes += data.length;
    this.#appendAsLeader(entry);
    return { index: entry.index, term: entry.term };
  }

  /**
   * Appends a single-server membership change. Rejected until this leader has committed an entry
   * of its own term and while an earlier change is uncommitted: together these keep any two
   * configurations that could both be in use within one server of each other.
   */
  proposeMembership(change: MembershipChange): { index: number; term: number } {
    this.#checkCanPropose();
    if (this.#log.term(this.#log.commit) !== this.#term) {
      throw new RaftError(
        'MEMBERSHIP_CHANGE_PENDING',
        `membership change rejected: leader ${this.id} has not yet committed an entry in term ${this.#term}; retry shortly`,
        this.id,
      );
    }
    if (this.#memberships.latestIndex() > this.#log.commit) {
      throw new RaftError(
        'MEMBERSHIP_CHANGE_PENDING',
        `membership change rejected: the change at index ${this.#memberships.latestIndex()} is not committed yet`,
        this.id,
      );
    }
    if (change.type === 'promote') {
      const progress = this.#progress.get(change.nodeId);
      if (progress !== undefined && progress.match < this.#log.commit) {
        throw new RaftError(
          'MEMBERSHIP_CHANGE_INVALID',
          `cannot promote node ${change.nodeId}: it has not caught up (match ${progress.match} < commit ${this.#log.commit})`,
          this.id,
        );
      }
    }
    const membership = applyMembershipChange(this.#memberships.latest(), change);
    this.#checkQuorumReachable(membership, change);
    const entry: Entry = { kind: 'config', term: this.#term, index: this.#log.lastIndex() + 1, membership };
    this.#appendAsLeader(entry);
    return { index: entry.index, term: entry.term };
  }

  /**
   * Rejects a change after which the voters heard from within the last election timeout could no
   * longer form a quorum: such a cluster could not commit anything, not even a change to undo it.
   */
  #checkQuorumReachable(membership: Membership, change: MembershipChange): void {
    if (change.type === 'add-learner') return;
    const reachable = membership.voters.filter((id) => this.#recentlyHeardFrom(id));
    const needed = quorumSize(membership.voters.length);
    if (reachable.length < needed) {
      throw new RaftError(
        'MEMBERSHIP_CHANGE_INVALID',
        `cannot ${change.type} node ${change.nodeId}: only ${reachable.length} of the resulting ${membership.voters.length} voters (${reachable.join(', ')}) responded recently, and a quorum needs ${needed}; bring the others back first`,
        this.id,
      );
    }
  }

  /**
   * Hands leadership to `target`: once the target's log has caught up, the leader sends it TimeoutNow
   * so that it starts an election at once. Proposals are rejected meanwhile; the transfer aborts after transferTimeoutTicks.
   */
  transferLeadership(target: NodeId): void {
    if (this.#role !== 'leader') {
      throw new RaftError('NOT_LEADER', `node ${this.id} is not the leader`, this.#leaderId);
    }
    if (target === this.id) {
      throw new RaftError(
        'TRANSFER_INVALID',
        `cannot transfer leadership to node ${target}: it is already the leader`,
        this.id,
      );
    }
    if (!isVoter(this.#memberships.latest(), target)) {
      throw new RaftError(
        'TRANSFER_INVALID',
        `cannot transfer leadership to node ${target}: it is not a voter of the current configuration`,
        this.id,
      );
    }
    this.#transferTarget = target;
    this.#transferElapsed = 0;
    const progress = this.#progress.get(target)!;
    if (progress.match === this.#log.lastIndex()) {
      this.#send({ ...this.#header(target), type: 'timeout-now' });
    } else {
      this.#sendAppend(target, false);
    }
  }

  /**
   * Requests a linearizable read. The result arrives in a later ready batch as a ReadState, or as
   * the request id in `failedReads`. Serve the read once the state machine has applied its index.
   */
  readIndex(requestId: number): void {
    if (this.#role === 'leader') {
      this.#handleReadRequest(requestId, NO_NODE);
      return;
    }
    if (this.#leaderId === NO_NODE) {
      throw new RaftError(
        'NO_LEADER',
        `node ${this.id} knows no leader in term ${this.#term}; retry once one is elected`,
      );
    }
    this.#forwardedReads.set(requestId, { leaderId: this.#leaderId, sentAt: this.#ticks });
    this.#send({ ...this.#header(this.#leaderId), type: 'read-index-request', requestId });
  }

  /**
   * Records a snapshot that the application took of its state at `index` (at most the applied
   * index) and compacts the log below it, keeping snapshotTrailingEntries entries for followers
   * that lag a little. Storage writes the snapshot before it deletes those entries.
   */
  compact(index: number, data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new RaftError(
        'SNAPSHOT_INVALID',
        `cannot snapshot: data must be a Uint8Array, got ${describeValue(data)}`,
      );
    }
    const current = this.#log.snapshot?.meta.index ?? 0;
    if (!Number.isSafeInteger(index) || index <= current || index > this.#log.applied) {
      throw new RaftError(
        'SNAPSHOT_INVALID',
        `cannot snapshot at index ${index}: expected an index above the current snapshot ${current} and at most the applied index ${this.#log.applied}`,
      );
    }
    const term = this.#log.term(index);
    if (term === undefined) throw new Error(`term of applied index ${index} is unknown`);
    const snapshot: Snapshot = { meta: { index, term, membership: this.#memberships.at(index) }, data };
    const compactTo = Math.max(index - this.#options.snapshotTrailingEntries, this.#log.firstIndex() - 1);
    this.#log.compact(snapshot, compactTo);
    this.#memberships.compact(index);
    this.#snapshotToPersist = snapshot;
    this.#compactTo = Math.max(this.#compactTo ?? 0, compactTo);
  }

  /** Tells the leader that messages to `id` could not be delivered, so it probes again instead of pipelining. */
  reportUnreachable(id: NodeId): void {
    const progress = this.#progress.get(id);
    if (this.#role === 'leader' && progress?.state === 'replicate') progress.becomeProbe();
  }

  /**
   * Processes one message from another server. Messages that fail `validateMessage`, carry an
   * unknown protocol version or are addressed to another server are ignored, so a faulty peer
   * cannot break this server's invariants.
   */
  step(message: Message): void {
    if (validateMessage(message) !== null) return;
    if (message.v !== PROTOCOL_VERSION || message.to !== this.id || message.from === this.id) return;
    if (!this.#stepTerm(message)) return;

    switch (message.type) {
      case 'vote-request':
        this.#handleVoteRequest(message);
        return;
      case 'vote-response':
        this.#handleVoteResponse(message);
        return;
      case 'append-request':
        this.#becomeFollowerOf(message.from);
        this.#handleAppend(message);
        return;
      case 'heartbeat-request':
        this.#becomeFollowerOf(message.from);
        this.#handleHeartbeat(message);
        return;
      case 'snapshot-request':
        this.#becomeFollowerOf(message.from);
        this.#handleSnapshot(message);
        return;
      case 'timeout-now':
        if (this.#role !== 'leader' && this.#promotable()) this.#startElection(true);
        return;
      case 'read-index-request':
        this.#handleRemoteReadRequest(message);
        return;
      case 'read-index-response':
        this.#handleReadIndexResponse(message);
        return;
      case 'append-response':
        if (this.#role === 'leader') this.#handleAppendResponse(message);
        return;
      case 'heartbeat-response':
        if (this.#role === 'leader') this.#handleHeartbeatResponse(message);
        return;
      case 'snapshot-response':
        if (this.#role === 'leader') this.#handleSnapshotResponse(message);
        return;
    }
  }

  // ---------------------------------------------------------------- ready / advance

  hasReady(): boolean {
    if (this.#readyInFlight) return false;
    return (
      this.#messages.length > 0 ||
      this.#reads.due ||
      this.#readStates.length > 0 ||
      this.#failedReads.length > 0 ||
      this.#snapshotToPersist !== null ||
      this.#snapshotToRestore !== null ||
      this.#compactTo !== null ||
      this.#log.unstableFrom <= this.#log.lastIndex() ||
      this.#hardStateChanged() ||
      !sameSoftState(this.#softState(), this.#reportedSoftState) ||
      Math.min(this.#log.commit, this.#log.persistedIndex) > this.#applying
    );
  }

  /**
   * Takes the queued messages that may leave before the pending writes are durable: a leader's
   * appends, heartbeats, snapshot chunks and TimeoutNow. None of them promises anything about this
   * server's disk, because the leader counts its own entries toward commit only once they are
   * durable. Sending them at once keeps heartbeats off the disk path, so a slow fsync on the leader
   * does not silence it. Callable at any time, also while a ready batch is in flight. Messages not
   * taken here go out with the next ready batch.
   */
  takeImmediateMessages(): Message[] {
    // A leader that has not yet made its own term durable (a single voter elects itself without
    // any round trip) must wait: after a crash it could lead that term again with other entries.
    if (this.#durableTerm !== this.#term) return [];
    this.#startReadRound();
    const immediate: Message[] = [];
    const deferred: Message[] = [];
    for (const message of this.#messages) (isImmediate(message) ? immediate : deferred).push(message);
    this.#messages = deferred;
    return immediate;
  }

  /** Takes the pending work as one batch. Only one batch may be in flight; call `advance` when it is done. */
  ready(): Ready {
    if (this.#readyInFlight) throw new Error('ready() called again before advance()');
    this.#readyInFlight = true;
    this.#startReadRound();

    const entries = this.#log.unstableEntries();
    const hardState = this.#hardState();
    const persistHardState =
      this.#hardStateChanged() || (entries.length > 0 && hardState.commit !== this.#persistedHardState.commit)
        ? hardState
        : null;
    const snapshot = this.#snapshotToPersist;
    const truncateFrom = entries.length > 0 || this.#truncatePending ? this.#log.unstableFrom : null;
    const persist: PersistBatch | null =
      entries.length > 0 ||
      persistHardState !== null ||
      snapshot !== null ||
      this.#compactTo !== null ||
      truncateFrom !== null
        ? { snapshot, truncateFrom, compactTo: this.#compactTo, entries, hardState: persistHardState }
        : null;
    const last = entries.at(-1);
    if (last !== undefined) this.#log.markWriting(last.index);
    if (persistHardState !== null) this.#persistedHardState = persistHardState;

    const committedEntries = this.#log.nextCommitted(this.#applying, MAX_APPLY_BYTES);
    if (committedEntries.length > 0) this.#applying = committedEntries.at(-1)!.index;

    const softState = this.#softState();
    const ready: Ready = {
      persist,
      messages: this.#messages,
      snapshotToRestore: this.#snapshotToRestore,
      committedEntries,
      readStates: this.#readStates,
      failedReads: this.#failedReads,
      softState: sameSoftState(softState, this.#reportedSoftState) ? null : softState,
      lastPersisted: last === undefined ? null : { index: last.index, term: last.term },
    };
    this.#reportedSoftState = softState;
    this.#messages = [];
    this.#readStates = [];
    this.#failedReads = [];
    this.#snapshotToPersist = null;
    this.#snapshotToRestore = null;
    this.#compactTo = null;
    this.#truncatePending = false;
    return ready;
  }

  /** Acknowledges that the driver has carried out `ready`: its writes are durable and its entries applied. */
  advance(ready: Ready): void {
    if (!this.#readyInFlight) throw new Error('advance() called without a ready batch in flight');
    this.#readyInFlight = false;
    if (ready.lastPersisted !== null) this.#log.markPersisted(ready.lastPersisted.index);
    if (ready.persist?.hardState) this.#durableTerm = ready.persist.hardState.term;
    const lastApplied = ready.committedEntries.at(-1)?.index ?? 0;
    if (ready.snapshotToRestore !== null) {
      this.#log.applied = Math.max(this.#log.applied, ready.snapshotToRestore.meta.index);
    }
    if (lastApplied > this.#log.applied) this.#log.applied = lastApplied;
    if (this.#role === 'leader' && this.#maybeCommit()) {
      // The leader counts itself toward commit only for entries on its own disk, so its own
      // write can be the last one a commit waits for.
      this.#broadcastAppend();
    }
  }

  /**
   * Whether this server leads and has committed an entry of its own term. Its commit index then
   * covers every entry that an earlier leader committed.
   */
  committedInOwnTerm(): boolean {
    return this.#role === 'leader' && this.#log.term(this.#log.commit) === this.#term;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      term: this.#term,
      vote: this.#vote,
      commit: this.#log.commit,
      applied: this.#log.applied,
      firstIndex: this.#log.firstIndex(),
      lastIndex: this.#log.lastIndex(),
      lastLogTerm: this.#log.term(this.#log.lastIndex()) ?? 0,
      snapshotIndex: this.#log.snapshot?.meta.index ?? 0,
      snapshotTerm: this.#log.snapshot?.meta.term ?? 0,
      role: this.#role,
      leaderId: this.#leaderId,
      membership: this.#memberships.latest(),
      transferTarget: this.#transferTarget,
    };
  }

  /**
   * Returns the membership in force at `index`: that of the last configuration entry at or below it.
   * For an index below the last snapshot, returns the snapshot's membership.
   */
  membershipAt(index: number): Membership {
    return this.#memberships.at(index);
  }

  /** Returns the leader's view of each follower's replication, for metrics, or nothing on other roles. */
  followerProgress(): { id: NodeId; match: number; next: number; state: string }[] {
    if (this.#role !== 'leader') return [];
    return [...this.#progress.values()]
      .filter((progress) => progress.id !== this.id)
      .map((progress) => ({
        id: progress.id,
        match: progress.match,
        next: progress.next,
        state: progress.state,
      }));
  }

  // ---------------------------------------------------------------- terms and roles

  /**
   * Applies the term rules common to all messages. Returns false when the message must be dropped.
   */
  #stepTerm(message: Message): boolean {
    if (isLeaderMessage(message) && this.#removedForGood(message.from)) {
      // A removed id can never lead this configuration again. Its appends come from another
      // history, such as the old servers after an offline recovery, and taking them would mix two logs.
      return false;
    }
    if (message.term > this.#term) {
      if (message.type === 'vote-request') {
        // Leader stickiness: a server that heard from a leader within the election timeout ignores
        // campaigns, so a partitioned or removed server cannot depose a healthy leader.
        const inLease =
          this.#options.checkQuorum &&
          this.#leaderId !== NO_NODE &&
          this.#electionElapsed < this.#options.electionTicks;
        if (inLease && !message.transfer) return false;
        // A PreVote probes without changing anyone's term.
        if (message.preVote) return true;
        // A candidate that this server would refuse anyway must not push its term up either:
        // otherwise a removed server that campaigns without PreVote deposes the leader again and again.
        if (!this.#candidateEligible(message)) return false;
        this.#becomeFollower(message.term, NO_NODE);
        return true;
      }
      if (message.type === 'vote-response' && message.preVote && message.granted) return true;
      if (isReplicationResponse(message) && !isMember(this.#memberships.latest(), message.from)) {
        // A removed server may have campaigned its term up; its response to an append sent before
        // the removal must not depose the leader. Replication responses matter only from members.
        return false;
      }
      this.#becomeFollower(message.term, isLeaderMessage(message) ? message.from : NO_NODE);
      return true;
    }

    if (message.term < this.#term) {
      if (
        (this.#options.checkQuorum || this.#options.preVote) &&
        (message.type === 'append-request' || message.type === 'heartbeat-request')
      ) {
        // A stale leader, or one that cannot hear our higher term because our campaigns are
        // ignored under its lease: tell it our term so it steps down and a new election can
        // include this server.
        this.#send({
          ...this.#header(message.from),
          type: 'append-response',
          success: false,
          index: 0,
          hintIndex: 0,
          hintTerm: 0,
        });
      } else if (message.type === 'vote-request' && message.preVote) {
        // Rejecting with our term lets a lagging pre-candidate learn the term it must catch up to.
        this.#send({ ...this.#header(message.from), type: 'vote-response', preVote: true, granted: false });
      }
      return false;
    }
    return true;
  }

  #becomeFollower(term: number, leaderId: NodeId): void {
    const wasLeader = this.#role === 'leader';
    if (term !== this.#term) {
      // The vote belongs to the term: it is reset only when the term changes.
      this.#term = term;
      this.#vote = NO_NODE;
    }
    this.#role = 'follower';
    this.#leaderId = leaderId;
    this.#electionElapsed = 0;
    this.#resetElectionTimer();
    this.#votes.clear();
    if (wasLeader) this.#leaveOffice();
    if (this.#forwardedReads.size > 0) this.#failForwardedReads();
  }

  /** Same-term messages from a leader: a candidate yields, and a follower records the leader. */
  #becomeFollowerOf(leaderId: NodeId): void {
    if (this.#role !== 'follower' || this.#leaderId !== leaderId) {
      this.#becomeFollower(this.#term, leaderId);
    }
    this.#electionElapsed = 0;
  }

  #leaveOffice(): void {
    this.#progress.clear();
    this.#pruneCountdown = 0;
    this.#transferTarget = NO_NODE;
    this.#uncommittedBytes = 0;
    for (const read of this.#reads.clear()) this.#failRead(read.requestId, read.from);
    for (const read of this.#deferredReads) this.#failRead(read.requestId, read.from);
    this.#deferredReads = [];
  }

  #startElection(transfer: boolean): void {
    // Only a faulty peer can have pushed the term to MAX_TERM (2^52 elections are out of reach).
    // A campaign would send a term that every peer rejects, so this server waits instead.
    if (this.#term >= MAX_TERM) return;
    if (this.#options.preVote && !transfer) {
      this.#role = 'pre-candidate';
      this.#leaderId = NO_NODE;
      if (this.#forwardedReads.size > 0) this.#failForwardedReads();
      this.#beginVoting(true, transfer);
    } else {
      this.#becomeCandidate();
      this.#beginVoting(false, transfer);
    }
  }

  #becomeCandidate(): void {
    this.#term++;
    this.#vote = this.id;
    this.#role = 'candidate';
    this.#leaderId = NO_NODE;
    if (this.#forwardedReads.size > 0) this.#failForwardedReads();
  }

  #beginVoting(preVote: boolean, transfer: boolean): void {
    this.#electionElapsed = 0;
    this.#resetElectionTimer();
    this.#votes = new Map([[this.id, true]]);
    if (this.#checkVotes(preVote, transfer)) return;
    const term = preVote ? this.#term + 1 : this.#term;
    for (const voter of this.#memberships.latest().voters) {
      if (voter === this.id) continue;
      this.#send({
        v: PROTOCOL_VERSION,
        from: this.id,
        to: voter,
        term,
        type: 'vote-request',
        preVote,
        lastLogIndex: this.#log.lastIndex(),
        lastLogTerm: this.#log.lastTerm(),
        transfer,
      });
    }
  }

  /** Acts on the votes so far; returns true when the election is decided. */
  #checkVotes(preVote: boolean, transfer: boolean): boolean {
    const result = tallyVotes(this.#memberships.latest().voters, this.#votes);
    if (result === 'won') {
      if (preVote) {
        this.#becomeCandidate();
        this.#beginVoting(false, transfer);
      } else {
        this.#becomeLeader();
      }
      return true;
    }
    if (result === 'lost') {
      this.#becomeFollower(this.#term, NO_NODE);
      return true;
    }
    return false;
  }

  #becomeLeader(): void {
    this.#role = 'leader';
    this.#leaderId = this.id;
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#votes.clear();
    this.#uncommittedBytes = 0;
    this.#progress.clear();
    for (const id of members(this.#memberships.latest())) {
      const progress = new Progress(id, this.#log.lastIndex() + 1);
      if (id === this.id) {
        progress.match = this.#log.persistedIndex;
        this.#markActive(progress);
      }
      this.#progress.set(id, progress);
    }
    // Older entries can only commit together with an entry of this term, so append one now.
    this.#appendAsLeader({ kind: 'noop', term: this.#term, index: this.#log.lastIndex() + 1 });
  }

  /**
   * Whether this server may start elections: it is a voter of its latest configuration, or of the
   * committed one while a change that removes it is still uncommitted. The second case follows the
   * Raft dissertation. When a leader of two voters removes itself and loses office before the
   * removal commits, the other voter cannot win without it. Only this server's campaign, which
   * counts the votes of the latest configuration and not its own, can then commit the removal.
   */
  #promotable(): boolean {
    if (isVoter(this.#memberships.latest(), this.id)) return true;
    return (
      this.#memberships.latestIndex() > this.#log.commit &&
      isVoter(this.#memberships.at(this.#log.commit), this.id)
    );
  }

  #resetElectionTimer(): void {
    const base = this.#options.electionTicks;
    const jitter = this.#options.random(base);
    if (!Number.isSafeInteger(jitter) || jitter < 0 || jitter >= base) {
      throw new Error(
        `invalid raft option random: returned ${jitter} for bound ${base}, expected an integer in [0, ${base})`,
      );
    }
    this.#randomizedElectionTimeout = base + jitter;
  }

  // ---------------------------------------------------------------- elections

  #handleVoteRequest(message: VoteRequest): void {
    const canVote =
      this.#vote === message.from ||
      (this.#vote === NO_NODE && this.#leaderId === NO_NODE) ||
      (message.preVote && message.term > this.#term);
    const upToDate = this.#log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
    const grant = canVote && upToDate && this.#candidateEligible(message);
    if (grant && !message.preVote) {
      this.#vote = message.from;
      this.#electionElapsed = 0;
    }
    // A granted PreVote carries the requested term, so the pre-candidate can count it.
    const term = grant && message.preVote ? message.term : this.#term;
    this.#send({
      ...this.#header(message.from),
      term,
      type: 'vote-response',
      preVote: message.preVote,
      granted: grant,
    });
  }

  /**
   * A candidate that is not a voter in this server's configuration is refused unless its log is
   * strictly newer (then it may hold a configuration that this server has not seen yet). This
   * stops a stale learner or removed server with a higher term from winning votes.
   */
  #candidateEligible(message: VoteRequest): boolean {
    if (this.#removedForGood(message.from)) return false;
    if (isVoter(this.#memberships.latest(), message.from)) return true;
    const ownTerm = this.#log.lastTerm();
    return (
      message.lastLogTerm > ownTerm ||
      (message.lastLogTerm === ownTerm && message.lastLogIndex > this.#log.lastIndex())
    );
  }

  /**
   * True when a committed configuration removed `id`. Removed ids are never added again, so such a
   * server can neither lead nor win a vote here, whatever term or log it brings.
   */
  #removedForGood(id: NodeId): boolean {
    return this.#memberships.at(this.#log.commit).removed.includes(id);
  }

  #handleVoteResponse(message: VoteResponse): void {
    if (message.preVote) {
      // Grants carry the requested term (ours + 1); rejections carry the voter's term, here ours.
      const expectedTerm = message.granted ? this.#term + 1 : this.#term;
      if (this.#role !== 'pre-candidate' || message.term !== expectedTerm) return;
    } else if (this.#role !== 'candidate' || message.term !== this.#term) {
      return;
    }
    this.#votes.set(message.from, message.granted);
    this.#checkVotes(message.preVote, false);
  }

  // ---------------------------------------------------------------- follower side of replication

  #handleAppend(message: AppendRequest): void {
    const reply = (success: boolean, index: number, hintIndex = 0, hintTerm = 0): void => {
      this.#send({
        ...this.#header(message.from),
        type: 'append-response',
        success,
        index,
        hintIndex,
        hintTerm,
      });
    };

    if (message.prevIndex < this.#log.commit) {
      // Everything up to our commit index matches the leader already.
      reply(true, this.#log.commit);
      return;
    }
    if (!this.#log.matchTerm(message.prevIndex, message.prevTerm)) {
      const hint = this.#log.findConflictByTerm(
        Math.min(message.prevIndex, this.#log.lastIndex()),
        message.prevTerm,
      );
      reply(false, message.prevIndex, hint.index, hint.term);
      return;
    }

    const conflict = this.#log.findConflict(message.entries);
    if (conflict !== 0) {
      const fresh = message.entries.slice(conflict - message.entries[0]!.index);
      const removedFrom = this.#log.truncateAndAppend(fresh);
      if (removedFrom !== 0) {
        this.#memberships.truncateFrom(removedFrom);
        this.#withdrawAcknowledgements(removedFrom);
      }
      for (const entry of fresh) {
        if (entry.kind === 'config') this.#memberships.append(entry.index, entry.membership);
      }
    }
    // Commit only what this request verified: entries beyond it may still differ from the leader's.
    const lastVerified = message.prevIndex + message.entries.length;
    this.#log.commitTo(Math.min(message.commit, lastVerified));
    reply(true, lastVerified);
  }

  /**
   * Drops queued append acknowledgements that cover entries from `removedFrom` on. Those entries
   * were replaced in memory before any batch wrote them, so an acknowledgement sent after the next
   * batch would vouch for entries that this server never stored. Acknowledgements already handed
   * out in a ready batch stay valid: that batch writes the entries they cover.
   */
  #withdrawAcknowledgements(removedFrom: number): void {
    this.#messages = this.#messages.filter(
      (queued) => !(queued.type === 'append-response' && queued.success && queued.index >= removedFrom),
    );
  }

  #handleHeartbeat(message: HeartbeatRequest): void {
    // The leader caps `commit` at our match index, so it never exceeds what we hold in its term.
    this.#log.commitTo(Math.min(message.commit, this.#log.lastIndex()));
    this.#send({ ...this.#header(message.from), type: 'heartbeat-response', readRound: message.readRound });
  }

  #handleSnapshot(message: SnapshotRequest): void {
    const { meta } = message;
    const reply = (nextOffset: number, installed: boolean): void => {
      this.#send({
        ...this.#header(message.from),
        type: 'snapshot-response',
        snapshotIndex: meta.index,
        nextOffset,
        installed,
        lastIndex: this.#log.lastIndex(),
      });
    };

    if (meta.index <= this.#log.commit) {
      reply(0, true);
      return;
    }
    const data = this.#snapshotReceiver.receive(message);
    if (data === null) {
      reply(this.#snapshotReceiver.receivedOf(message), false);
      return;
    }

    const snapshot: Snapshot = { meta, data };
    if (this.#log.matchTerm(meta.index, meta.term)) {
      // Our log already contains the snapshot's last entry, so it matches the leader up to there:
      // keep the entries after it and simply commit.
      this.#log.commitTo(meta.index);
    } else {
      this.#withdrawAcknowledgements(meta.index + 1);
      this.#log.restore(snapshot);
      this.#memberships.reset(meta.index, meta.membership);
      this.#applying = meta.index;
      this.#snapshotToPersist = snapshot;
      this.#snapshotToRestore = snapshot;
      this.#compactTo = meta.index;
      this.#truncatePending = true;
    }
    reply(message.offset + message.data.length, true);
  }

  // ---------------------------------------------------------------- leader side of replication

  #tickLeader(): void {
    this.#leaderTicks++;
    this.#heartbeatElapsed++;
    this.#electionElapsed++;

    if (this.#electionElapsed >= this.#options.electionTicks) {
      this.#electionElapsed = 0;
      if (this.#options.checkQuorum && !this.#quorumActive()) {
        this.#becomeFollower(this.#term, NO_NODE);
        return;
      }
    }
    if (this.#pruneCountdown > 0 && --this.#pruneCountdown === 0) {
      const membership = this.#memberships.latest();
      if (this.#memberships.latestIndex() <= this.#log.commit) this.#pruneProgress(membership);
      else this.#pruneCountdown = this.#options.electionTicks;
    }
    if (this.#transferTarget !== NO_NODE && ++this.#transferElapsed >= this.#options.transferTimeoutTicks) {
      this.#transferTarget = NO_NODE;
    }
    if (this.#heartbeatElapsed >= this.#options.heartbeatTicks) {
      this.#heartbeatElapsed = 0;
      this.#broadcastHeartbeat();
    }
  }

  #markActive(progress: Progress): void {
    progress.recentActive = true;
    progress.lastActiveTick = this.#leaderTicks;
  }

  /** Whether `id` is this server or a follower that responded within the last election timeout. */
  #recentlyHeardFrom(id: NodeId): boolean {
    if (id === this.id) return true;
    const progress = this.#progress.get(id);
    return (
      progress !== undefined && this.#leaderTicks - progress.lastActiveTick < this.#options.electionTicks
    );
  }

  /** Whether a quorum of voters was heard from since the last check; clears the marks for the next round. */
  #quorumActive(): boolean {
    const voters = this.#memberships.latest().voters;
    let active = 0;
    for (const id of voters) {
      if (id === this.id || this.#progress.get(id)?.recentActive) active++;
    }
    for (const progress of this.#progress.values()) {
      if (progress.id !== this.id) progress.recentActive = false;
    }
    return active >= quorumSize(voters.length);
  }

  /** Sends the heartbeat round that queued reads wait for, if one is due. */
  #startReadRound(): void {
    if (this.#role === 'leader' && this.#reads.startRound()) this.#broadcastHeartbeat();
  }

  #broadcastHeartbeat(): void {
    for (const progress of this.#progress.values()) {
      if (progress.id === this.id) continue;
      progress.heartbeatsSinceChunk++;
      this.#send({
        ...this.#header(progress.id),
        type: 'heartbeat-request',
        commit: Math.min(progress.match, this.#log.commit),
        readRound: this.#reads.round,
      });
    }
  }

  /** Sends every follower what it lacks, or an empty append carrying the new commit index. */
  #broadcastAppend(): void {
    for (const progress of this.#progress.values()) {
      if (progress.id !== this.id) this.#sendAppend(progress.id, true);
    }
  }

  #appendAsLeader(entry: Entry): void {
    this.#log.append([entry]);
    if (entry.kind === 'config') this.#applyLeaderMembership(entry.index, entry.membership);
    for (const progress of this.#progress.values()) {
      if (progress.id !== this.id) this.#sendAppend(progress.id, false);
    }
    // A single voter commits as soon as its own write is durable (see `advance`).
  }

  #applyLeaderMembership(index: number, membership: Membership): void {
    this.#memberships.append(index, membership);
    const current = new Set(members(membership));
    for (const id of current) {
      if (!this.#progress.has(id)) this.#progress.set(id, new Progress(id, this.#log.lastIndex()));
    }
    // A removed server keeps its progress until the removal commits (see #pruneProgress): it
    // then receives the entry that removes it and stops campaigning.
    if (this.#transferTarget !== NO_NODE && !isVoter(membership, this.#transferTarget)) {
      this.#transferTarget = NO_NODE;
    }
  }

  /** Sends the next append to `to` if its progress allows one. Returns whether a message was sent. */
  #sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const progress = this.#progress.get(to);
    if (progress === undefined) return false;
    if (progress.isPaused(this.#options.maxInflightAppends, this.#options.maxInflightBytes)) return false;

    const prevIndex = progress.next - 1;
    const prevTerm = this.#log.term(prevIndex);
    if (prevTerm === undefined) {
      this.#sendSnapshot(progress);
      return true;
    }
    const entries =
      progress.next <= this.#log.lastIndex()
        ? this.#log.slice(
            progress.next,
            this.#log.lastIndex(),
            this.#options.maxAppendBytes,
            this.#options.maxAppendEntries,
          )
        : [];
    if (entries.length === 0 && !sendIfEmpty && progress.state === 'replicate') return false;

    this.#send({
      ...this.#header(to),
      type: 'append-request',
      prevIndex,
      prevTerm,
      entries,
      commit: this.#log.commit,
    });
    let bytes = 0;
    for (const entry of entries) bytes += entryBytes(entry);
    progress.onAppendSent(entries.at(-1)?.index ?? prevIndex, bytes);
    return true;
  }

  #sendSnapshot(progress: Progress): void {
    const snapshot = this.#log.snapshot;
    if (snapshot === null) {
      throw new Error(
        `follower ${progress.id} needs index ${progress.next - 1}, which is compacted, but no snapshot exists`,
      );
    }
    if (progress.state !== 'snapshot' || progress.snapshotIndex !== snapshot.meta.index) {
      progress.becomeSnapshot(snapshot.meta.index);
    }
    this.#sendSnapshotChunk(progress, snapshot);
  }

  #sendSnapshotChunk(progress: Progress, snapshot: Snapshot): void {
    progress.heartbeatsSinceChunk = 0;
    const offset = Math.min(progress.snapshotOffset, snapshot.data.length);
    const end = Math.min(offset + this.#options.snapshotChunkBytes, snapshot.data.length);
    this.#send({
      ...this.#header(progress.id),
      type: 'snapshot-request',
      meta: snapshot.meta,
      offset,
      data: snapshot.data.subarray(offset, end),
      done: end === snapshot.data.length,
    });
  }

  #handleAppendResponse(message: AppendResponse): void {
    const progress = this.#progress.get(message.from);
    if (progress === undefined) return;
    this.#markActive(progress);

    if (!message.success) {
      const hint = this.#log.findConflictByTerm(message.hintIndex, message.hintTerm);
      if (progress.maybeDecreaseTo(message.index, hint.index + 1)) {
        if (progress.state === 'replicate') progress.becomeProbe();
        this.#sendAppend(message.from, false);
      }
      return;
    }

    if (message.index > this.#log.lastIndex()) return; // A follower cannot hold entries this leader never had.
    const advanced = progress.maybeUpdate(message.index);
    // A probe acknowledged at the match index already known still proves where the follower's log
    // matches, so replication can resume at full speed instead of waiting for a heartbeat.
    const probeConfirmed = progress.state === 'probe' && progress.match === message.index;
    if (!advanced && !probeConfirmed) {
      progress.freeInflightsTo(message.index);
      return;
    }
    if (progress.state === 'probe') {
      progress.becomeReplicate();
    } else if (progress.state === 'snapshot' && progress.match >= progress.snapshotIndex) {
      progress.becomeProbe();
      progress.becomeReplicate();
    } else {
      progress.freeInflightsTo(message.index);
    }

    if (this.#maybeCommit()) {
      this.#broadcastAppend();
    } else {
      while (this.#sendAppend(message.from, false)) {
        // Fill the in-flight window.
      }
    }
    if (
      this.#role === 'leader' &&
      message.from === this.#transferTarget &&
      progress.match === this.#log.lastIndex()
    ) {
      this.#send({ ...this.#header(message.from), type: 'timeout-now' });
    }
  }

  #handleHeartbeatResponse(message: HeartbeatResponse): void {
    const progress = this.#progress.get(message.from);
    if (progress === undefined) return;
    this.#markActive(progress);

    if (progress.state === 'snapshot') {
      // The follower responds to heartbeats sent two rounds after the chunk, but not to the chunk,
      // so the chunk was probably lost: resend it. Chunks are idempotent, so a lost one costs two heartbeat
      // intervals, not a stalled follower.
      const snapshot = this.#log.snapshot;
      if (snapshot === null || snapshot.meta.index !== progress.snapshotIndex) progress.becomeProbe();
      else if (progress.heartbeatsSinceChunk >= 2) this.#sendSnapshotChunk(progress, snapshot);
    } else if (progress.state === 'replicate' && progress.inflightCount > 0) {
      // Appends outstanding across two heartbeat rounds were probably lost: probe again.
      if (++progress.stalledHeartbeats >= 2) progress.becomeProbe();
    } else if (progress.state === 'probe') {
      progress.probeSent = false;
    }
    if (progress.match < this.#log.lastIndex() || progress.state === 'probe')
      this.#sendAppend(message.from, false);

    if (isVoter(this.#memberships.latest(), message.from) && message.readRound > 0) {
      const released = this.#reads.acknowledge(
        message.from,
        message.readRound,
        this.id,
        this.#memberships.latest().voters,
      );
      for (const read of released) this.#completeRead(read.requestId, read.from, read.index);
    }
  }

  #handleSnapshotResponse(message: SnapshotResponse): void {
    const progress = this.#progress.get(message.from);
    if (progress === undefined) return;
    this.#markActive(progress);
    if (progress.state !== 'snapshot' || progress.snapshotIndex !== message.snapshotIndex) return;

    if (message.installed) {
      progress.maybeUpdate(message.snapshotIndex);
      progress.becomeProbe();
      this.#sendAppend(message.from, false);
      return;
    }
    const snapshot = this.#log.snapshot;
    if (snapshot === null || snapshot.meta.index !== progress.snapshotIndex) {
      // A newer snapshot replaced the one in transfer: start over with it.
      progress.becomeProbe();
      this.#sendAppend(message.from, false);
      return;
    }
    // The follower's offset is the truth even when it is lower than ours (a reordered response
    // may have moved ours ahead). Chunks are idempotent, so resending is safe; sending only when
    // the offset changes keeps duplicated responses from multiplying chunks.
    if (message.nextOffset !== progress.snapshotOffset) {
      progress.snapshotOffset = message.nextOffset;
      this.#sendSnapshotChunk(progress, snapshot);
    }
  }

  /** Advances the commit index to what a quorum holds, counting only entries of this term. */
  #maybeCommit(): boolean {
    const self = this.#progress.get(this.id);
    if (self !== undefined) self.match = this.#log.persistedIndex;
    const membership = this.#memberships.latest();
    const index = quorumIndex(membership.voters, (id) => this.#progress.get(id)?.match ?? 0);
    // An entry of an earlier term stored on a majority can still be overwritten (Raft's figure 8),
    // so counting replicas commits only entries of the current term.
    if (index <= this.#log.commit || this.#log.term(index) !== this.#term) return false;

    const before = this.#log.commit;
    this.#log.commitTo(index);
    for (let at = before + 1; at <= index; at++) {
      const entry = this.#log.entry(at);
      if (entry?.kind === 'command')
        this.#uncommittedBytes = Math.max(0, this.#uncommittedBytes - entry.data.length);
    }
    this.#releaseDeferredReads();
    if (
      this.#memberships.latestIndex() <= index &&
      this.#pruneCountdown === 0 &&
      this.#hasRemovedProgress(membership)
    ) {
      // Keep heartbeating removed servers for one election timeout, so they learn that their
      // removal committed and stop campaigning, then forget them.
      this.#pruneCountdown = this.#options.electionTicks;
    }

    if (!isVoter(membership, this.id) && this.#memberships.latestIndex() <= index) {
      // This leader removed itself and the change is committed: hand over and step down.
      this.#handOffAfterRemoval(membership);
      return false;
    }
    return true;
  }

  #hasRemovedProgress(membership: Membership): boolean {
    const current = new Set(members(membership));
    for (const id of this.#progress.keys()) {
      if (!current.has(id) && id !== this.id) return true;
    }
    return false;
  }

  /** Stops replicating to servers that a committed membership no longer includes. */
  #pruneProgress(membership: Membership): void {
    const current = new Set(members(membership));
    for (const id of [...this.#progress.keys()]) {
      if (!current.has(id) && id !== this.id) this.#progress.delete(id);
    }
  }

  #handOffAfterRemoval(membership: Membership): void {
    let best: Progress | undefined;
    for (const id of membership.voters) {
      const progress = this.#progress.get(id);
      if (progress !== undefined && (best === undefined || progress.match > best.match)) best = progress;
    }
    if (best !== undefined && best.match === this.#log.lastIndex()) {
      this.#send({ ...this.#header(best.id), type: 'timeout-now' });
    }
    this.#becomeFollower(this.#term, NO_NODE);
  }

  // ---------------------------------------------------------------- reads

  #handleReadRequest(requestId: number, from: NodeId): void {
    if (this.#log.term(this.#log.commit) !== this.#term) {
      // A new leader's commit index may lag the cluster's until it commits an entry of its term.
      this.#deferredReads.push({ requestId, from });
      return;
    }
    const voters = this.#memberships.latest().voters;
    if (voters.length === 1 && voters[0] === this.id) {
      this.#completeRead(requestId, from, this.#log.commit);
      return;
    }
    // The heartbeat round leaves with the next batch of messages, shared by every read until then.
    this.#reads.add(requestId, from, this.#log.commit);
  }

  #releaseDeferredReads(): void {
    if (this.#deferredReads.length === 0 || this.#log.term(this.#log.commit) !== this.#term) return;
    const deferred = this.#deferredReads;
    this.#deferredReads = [];
    for (const read of deferred) this.#handleReadRequest(read.requestId, read.from);
  }

  #handleRemoteReadRequest(message: ReadIndexRequest): void {
    if (this.#role !== 'leader') {
      this.#send({
        ...this.#header(message.from),
        type: 'read-index-response',
        requestId: message.requestId,
        index: 0,
      });
      return;
    }
    this.#handleReadRequest(message.requestId, message.from);
  }

  #handleReadIndexResponse(message: ReadIndexResponse): void {
    if (this.#forwardedReads.get(message.requestId)?.leaderId !== message.from) return;
    this.#forwardedReads.delete(message.requestId);
    if (message.index > 0) this.#readStates.push({ index: message.index, requestId: message.requestId });
    else this.#failedReads.push(message.requestId);
  }

  /** Fails reads forwarded to a leader that this server no longer follows: their responses may never come. */
  #failForwardedReads(): void {
    // A request or response may also have been lost: after two election timeouts, give up.
    const expired = this.#ticks - 2 * this.#options.electionTicks;
    for (const [requestId, { leaderId, sentAt }] of this.#forwardedReads) {
      if (leaderId !== this.#leaderId || sentAt <= expired) {
        this.#forwardedReads.delete(requestId);
        this.#failedReads.push(requestId);
      }
    }
  }

  #completeRead(requestId: number, from: NodeId, index: number): void {
    if (from === NO_NODE) {
      this.#readStates.push({ index, requestId });
    } else {
      this.#send({ ...this.#header(from), type: 'read-index-response', requestId, index });
    }
  }

  #failRead(requestId: number, from: NodeId): void {
    if (from === NO_NODE) this.#failedReads.push(requestId);
    else this.#send({ ...this.#header(from), type: 'read-index-response', requestId, index: 0 });
  }

  // ---------------------------------------------------------------- helpers

  #checkCanPropose(): void {
    if (this.#role !== 'leader') {
      throw new RaftError('NOT_LEADER', `node ${this.id} is not the leader`, this.#leaderId);
    }
    if (this.#transferTarget !== NO_NODE) {
      throw new RaftError(
        'TRANSFER_IN_PROGRESS',
        `proposal rejected: leadership is being transferred to node ${this.#transferTarget}; retry on the new leader`,
        this.#transferTarget,
      );
    }
  }

  #header(to: NodeId): { v: number; from: NodeId; to: NodeId; term: number } {
    return { v: PROTOCOL_VERSION, from: this.id, to, term: this.#term };
  }

  #send(message: Message): void {
    this.#messages.push(message);
  }

  #hardState(): HardState {
    return { term: this.#term, vote: this.#vote, commit: this.#log.commit };
  }

  #hardStateChanged(): boolean {
    return this.#term !== this.#persistedHardState.term || this.#vote !== this.#persistedHardState.vote;
  }

  #softState(): SoftState {
    return { role: this.#role, leaderId: this.#leaderId };
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function isImmediate(message: Message): boolean {
  switch (message.type) {
    case 'append-request':
    case 'heartbeat-request':
    case 'snapshot-request':
    case 'timeout-now':
      return true;
    default:
      return false;
  }
}

function isReplicationResponse(message: Message): boolean {
  return (
    message.type === 'append-response' ||
    message.type === 'heartbeat-response' ||
    message.type === 'snapshot-response'
  );
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leaderId === b.leaderId;
}

/** True for the messages that only a leader sends to replicate: appends, heartbeats, snapshots. */
function isLeaderMessage(message: Message): boolean {
  return (
    message.type === 'append-request' ||
    message.type === 'heartbeat-request' ||
    message.type === 'snapshot-request'
  );
}
