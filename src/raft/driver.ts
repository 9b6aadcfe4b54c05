import { AsyncResource } from 'node:async_hooks';
import type { Logger } from 'pino';
import { bootstrapState } from './bootstrap.js';
import { RaftError } from './errors.js';
import type { Message } from './messages.js';
import { RaftNode, type RaftOptions, type RaftStatus, type Ready } from './raft.js';
import type { RaftStorage } from './storage/storage.js';
import type {
  CommandEntry,
  DurableState,
  Entry,
  Membership,
  MembershipChange,
  NodeId,
  Snapshot,
} from './types.js';

/** The replicated application that committed entries are applied to. */
export interface StateMachine {
  /**
   * Applies one committed command; the result goes back to the proposer. Throws only when
   * the entry cannot be applied at all, which stops the server rather than let its state diverge.
   */
  apply(entry: CommandEntry): unknown;
  /** A no-op or membership entry was committed at `index`; the state's index moves with it. */
  advanceTo(index: number): void;
  /** Serialises the whole state as of the last applied index. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's. */
  restore(snapshot: Snapshot): void;
}

/** Outbound channel of the driver. `send` returns false when the peer cannot be reached right now. */
export interface MessageSender {
  send(message: Message): boolean;
}

/** Measurements the driver reports; all optional. */
export interface DriverObserver {
  /** A storage save took this long (seconds): the fsync latency. */
  fsync?(seconds: number): void;
  /** A proposal on this leader was committed and applied this long after it was made (seconds). */
  commit?(seconds: number): void;
  /** Role or leader changed. */
  softState?(status: RaftStatus): void;
  /** A committed membership entry was applied. */
  membership?(membership: Membership, index: number): void;
}

export interface DriverOptions {
  readonly raft: RaftOptions;
  readonly storage: RaftStorage;
  /** Durable state from `storage.load()`; the state machine must already contain its snapshot. */
  readonly durable: DurableState;
  readonly sender: MessageSender;
  readonly stateMachine: StateMachine;
  /** Length of one Raft tick in milliseconds. */
  readonly tickMs: number;
  /**
   * Take a snapshot once this many entries were applied since the last one, or up to half as many
   * again: each server draws its own threshold in [n, 1.5 n) after every snapshot, so that the
   * servers, which apply the same entries, do not all pause to encode their state at once.
   */
  readonly snapshotThresholdEntries: number;
  /** ... or once this many bytes of commands were applied since the last one (drawn the same way). */
  readonly snapshotThresholdBytes: number;
  readonly logger: Logger;
  readonly observer?: DriverObserver;
  /** Storage failed: the server must stop, because it can no longer promise durability. */
  readonly onFatal: (error: unknown) => void;
}

interface PendingProposal {
  readonly term: number;
  readonly startedAt: number;
  readonly resolve: (outcome: { index: number; result: unknown }) => void;
  readonly reject: (error: Error) => void;
}

interface PendingRead {
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Runs one consensus core in a server process: ticks it from a timer, feeds it messages and
 * proposals, and carries out its ready batches in the order the core requires (persist, send,
 * restore, apply, advance).
 *
 * Group commit follows from the core's rule of one ready batch in flight. While a save is on its
 * way to disk, new proposals collect in the core's log, and the next batch writes all of them
 * with one fsync. Appends and heartbeats that promise nothing about this server's disk leave at
 * once (`takeImmediateMessages`), so a slow fsync on the leader does not delay replication.
 */
export class RaftDriver {
  readonly #options: DriverOptions;
  readonly #log: Logger;
  #node: RaftNode;
  #timer: NodeJS.Timeout | null = null;
  #flushScheduled = false;
  #running = false;
  #stopped = false;
  #idle: Promise<void> = Promise.resolve();
  #proposals = new Map<number, PendingProposal>();
  #nextReadId = 1;
  #reads = new Map<number, PendingRead>();
  /** Read indexes confirmed by the leader, waiting for this server to apply that far. */
  #readyReads: { index: number; read: PendingRead }[] = [];
  #appliedWaiters: { index: number; resolve: () => void }[] = [];
  /**
   * Index of the last entry applied here. It runs ahead of the core's applied index while a batch
   * is being written, because committed entries are applied before the batch's own write ends.
   */
  #applied: number;
  #appliedSinceSnapshot = 0;
  #bytesSinceSnapshot = 0;
  #snapshotAfterEntries: number;
  #snapshotAfterBytes: number;
  /**
   * The async context the driver was created in. Flushes run in it, not in the context of the
   * caller that happened to schedule them, so request-scoped context (an HTTP write's term) never
   * reaches the state machine, the observers or the timers they start.
   */
  readonly #context = new AsyncResource('RaftDriver');
  #lastStatus: RaftStatus;

  constructor(options: DriverOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#node = new RaftNode(options.raft, options.durable);
    this.#lastStatus = this.#node.status();
    this.#applied = this.#lastStatus.applied;
    this.#snapshotAfterEntries = this.#jittered(options.snapshotThresholdEntries);
    this.#snapshotAfterBytes = this.#jittered(options.snapshotThresholdBytes);
  }

  /** Draws a threshold in [base, 1.5 base) with the core's injected randomness. */
  #jittered(base: number): number {
    const spread = Math.floor(base / 2);
    return spread < 1 ? base : base + this.#options.raft.random(spread);
  }

  get id(): NodeId {
    return this.#node.id;
  }

  /** Starts the tick timer. */
  start(): void {
    if (this.#timer !== null || this.#stopped) return;
    this.#timer = setInterval(() => {
      this.#node.tick();
      this.#schedule();
    }, this.#options.tickMs);
  }

  /** Stops ticking, waits for the batch in flight, and fails whatever still waits. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#idle;
    this.#failAll('server is shutting down');
  }

  /** The core's status, with the index that the state machine has applied (see #applied). */
  status(): RaftStatus {
    const status = this.#node.status();
    return this.#applied > status.applied ? { ...status, applied: this.#applied } : status;
  }

  /** Returns the membership in force at `index`, such as the applied index of a state snapshot. */
  membershipAt(index: number): Membership {
    return this.#node.membershipAt(index);
  }

  followerProgress(): ReturnType<RaftNode['followerProgress']> {
    return this.#node.followerProgress();
  }

  /** True while this server has never been part of a cluster: no term, no log, no snapshot. */
  isPristine(): boolean {
    const status = this.#node.status();
    return status.term === 0 && status.lastIndex === 0 && status.snapshotIndex === 0;
  }

  /**
   * Founds a cluster with these voters. Allowed only while this server is pristine and idle, so it
   * can never overwrite a vote or an entry: a server bootstraps once, and a restarted server
   * continues from its data.
   */
  async bootstrap(voters: readonly NodeId[]): Promise<boolean> {
    if (this.#stopped || !this.isPristine() || this.#running || this.#node.hasReady()) return false;
    const state = bootstrapState(voters);
    this.#running = true;
    let saved: () => void = () => undefined;
    this.#idle = new Promise((resolve) => {
      saved = resolve;
    });
    try {
      await this.#options.storage.save({
        snapshot: null,
        truncateFrom: null,
        compactTo: null,
        entries: state.entries,
        hardState: state.hardState,
      });
      this.#node = new RaftNode(this.#options.raft, state);
      this.#log.info({ voters }, 'bootstrapped a new cluster');
    } finally {
      this.#running = false;
      saved();
    }
    this.#schedule();
    return true;
  }

  /** Starts an election now (a founder does, so that a new cluster need not wait a timeout). */
  campaign(): void {
    this.#node.campaign();
    this.#schedule();
  }

  /** Hands a message from a peer to the core. */
  step(message: Message): void {
    if (this.#stopped) return;
    this.#node.step(message);
    this.#schedule();
  }

  /**
   * Proposes a command. Throws RaftError NOT_LEADER (with the known leader) on a follower, or when
   * `expectedTerm` is given and the current term differs.
   * Resolves with the state machine's result once the entry is applied here, or rejects when
   * another leader replaced it.
   */
  propose(data: Uint8Array, expectedTerm?: number): Promise<{ index: number; result: unknown }> {
    if (this.#stopped) return Promise.reject(new RaftError('NOT_LEADER', 'server is shutting down'));
    this.#checkTerm(expectedTerm);
    const { index, term } = this.#node.propose(data);
    return this.#track(index, term);
  }

  /** Proposes a membership change, only in `expectedTerm` when given; resolves once it is applied here. */
  proposeMembership(
    change: MembershipChange,
    expectedTerm?: number,
  ): Promise<{ index: number; result: unknown }> {
    if (this.#stopped) return Promise.reject(new RaftError('NOT_LEADER', 'server is shutting down'));
    this.#checkTerm(expectedTerm);
    const { index, term } = this.#node.proposeMembership(change);
    return this.#track(index, term);
  }

  // A caller that acts for one term (the leader's scheduling services, a write checked without
  // ReadIndex) must not write in the next one, even when this server leads again: its view of the
  // state belongs to the old term.
  #checkTerm(expectedTerm: number | undefined): void {
    const { term } = this.#node.status();
    if (expectedTerm !== undefined && term !== expectedTerm) {
      throw new RaftError(
        'NOT_LEADER',
        `proposal for term ${expectedTerm} rejected in term ${term}; retry on the current leader`,
      );
    }
  }

  #track(index: number, term: number): Promise<{ index: number; result: unknown }> {
    // An older proposal at the same index was truncated by a later leader before this server led
    // again: it was never applied.
    this.#proposals
      .get(index)
      ?.reject(
        new RaftError(
          'NOT_LEADER',
          `the entry at index ${index} was replaced by a later leader; it was not applied`,
        ),
      );
    this.#schedule();
    return new Promise((resolve, reject) => {
      this.#proposals.set(index, { term, startedAt: performance.now(), resolve, reject });
    });
  }

  transferLeadership(target: NodeId): void {
    this.#node.transferLeadership(target);
    this.#schedule();
  }

  /**
   * Resolves with an index once this server has applied it and the leader confirmed, after the
   * call, that it still leads with that commit index: state read afterwards is linearizable.
   */
  readIndex(): Promise<number> {
    if (this.#stopped) return Promise.reject(new RaftError('NO_LEADER', 'server is shutting down'));
    const id = this.#nextReadId++;
    this.#node.readIndex(id);
    this.#schedule();
    return new Promise((resolve, reject) => {
      this.#reads.set(id, { resolve, reject });
    });
  }

  /**
   * Resolves once this server has applied every entry committed before the call, for a caller that
   * proposes an entry next and decides on this state whether it may (a write and its ACL check).
   * A leader that has committed an entry of its own term needs no heartbeat round for that. If
   * another leader has taken over unnoticed, an entry proposed here from now on can never commit,
   * so a decision made on this copy cannot take effect. That holds only when the caller proposes
   * with `expectedTerm` set to the returned term and never hands the entry to another leader.
   * Elsewhere this is a ReadIndex round, and it resolves with null.
   */
  async writeBarrier(): Promise<number | null> {
    if (this.#stopped) throw new RaftError('NO_LEADER', 'server is shutting down');
    if (this.#node.committedInOwnTerm()) {
      const { term, commit } = this.#node.status();
      await this.waitForApplied(commit);
      return term;
    }
    await this.readIndex();
    return null;
  }

  /** Resolves once this server has applied `index` (at once when it already has). */
  waitForApplied(index: number): Promise<void> {
    if (this.#applied >= index) return Promise.resolve();
    return new Promise((resolve) => this.#appliedWaiters.push({ index, resolve }));
  }

  /** Number of proposals waiting to be applied. */
  proposalsWaiting(): number {
    return this.#proposals.size;
  }

  /** Resolves when no ready batch is being carried out (for an orderly shutdown). */
  idle(): Promise<void> {
    return this.#idle;
  }

  // Inputs arriving in the same turn of the event loop share one flush, so many proposals go out
  // in one append.
  #schedule(): void {
    if (this.#flushScheduled || this.#stopped) return;
    this.#flushScheduled = true;
    setImmediate(() =>
      this.#context.runInAsyncScope(() => {
        this.#flushScheduled = false;
        this.#flush();
      }),
    );
  }

  #flush(): void {
    if (this.#stopped) return;
    this.#send(this.#node.takeImmediateMessages());
    if (this.#running || !this.#node.hasReady()) return;
    this.#running = true;
    const ready = this.#node.ready();
    this.#idle = this.#carryOut(ready).then(
      () => {
        this.#running = false;
        this.#afterBatch();
        this.#schedule();
      },
      (error: unknown) => {
        this.#running = false;
        this.#stopped = true;
        if (this.#timer !== null) clearInterval(this.#timer);
        this.#failAll('server stopped after a storage failure');
        this.#options.onFatal(error);
      },
    );
  }

  async #carryOut(ready: Ready): Promise<void> {
    // The core hands out only committed entries that an earlier batch made durable here, so they
    // are applied, and their proposals resolved, while this batch's writes are on their way to
    // disk. A snapshot to restore waits for its own write, and so do the entries after it.
    const applyFirst = ready.snapshotToRestore === null;
    if (applyFirst) this.#applyCommitted(ready);
    if (ready.persist !== null) {
      const started = performance.now();
      await this.#options.storage.save(ready.persist);
      this.#options.observer?.fsync?.((performance.now() - started) / 1000);
    }
    this.#send(ready.messages);
    if (!applyFirst) {
      this.#restore(ready.snapshotToRestore!);
      this.#applyCommitted(ready);
    }
    this.#node.advance(ready);
    this.#releaseReads();
    if (ready.softState !== null) this.#softStateChanged();
  }

  #applyCommitted(ready: Ready): void {
    for (const entry of ready.committedEntries) this.#apply(entry);
    for (const state of ready.readStates) this.#confirmRead(state.requestId, state.index);
    for (const id of ready.failedReads) {
      const read = this.#reads.get(id);
      this.#reads.delete(id);
      read?.reject(new RaftError('NO_LEADER', 'no leader confirmed the read; retry once one is elected'));
    }
    this.#releaseReads();
  }

  #send(messages: readonly Message[]): void {
    for (const message of messages) {
      if (!this.#options.sender.send(message)) this.#node.reportUnreachable(message.to);
    }
  }

  #restore(snapshot: Snapshot): void {
    this.#options.stateMachine.restore(snapshot);
    this.#applied = Math.max(this.#applied, snapshot.meta.index);
    this.#appliedSinceSnapshot = 0;
    this.#bytesSinceSnapshot = 0;
    // Proposals at or below the snapshot were replaced or committed without this server applying
    // them; their outcome is unknown here.
    for (const [index, proposal] of this.#proposals) {
      if (index <= snapshot.meta.index) {
        this.#proposals.delete(index);
        proposal.reject(
          new RaftError(
            'OUTCOME_UNKNOWN',
            `outcome of the entry at index ${index} is unknown; read before retrying`,
          ),
        );
      }
    }
    this.#log.info({ index: snapshot.meta.index, term: snapshot.meta.term }, 'restored a snapshot');
  }

  #apply(entry: Entry): void {
    this.#applied = entry.index;
    let result: unknown;
    if (entry.kind === 'command') {
      result = this.#options.stateMachine.apply(entry);
      this.#bytesSinceSnapshot += entry.data.length;
    } else {
      this.#options.stateMachine.advanceTo(entry.index);
      if (entry.kind === 'config') {
        const { membership } = entry;
        this.#log.info({ index: entry.index, term: entry.term, ...membership }, 'membership committed');
        this.#options.observer?.membership?.(membership, entry.index);
      }
    }
    this.#appliedSinceSnapshot++;
    const proposal = this.#proposals.get(entry.index);
    if (proposal === undefined) return;
    this.#proposals.delete(entry.index);
    if (proposal.term === entry.term) {
      this.#options.observer?.commit?.((performance.now() - proposal.startedAt) / 1000);
      proposal.resolve({ index: entry.index, result });
    } else {
      proposal.reject(
        new RaftError(
          'NOT_LEADER',
          `the entry at index ${entry.index} was replaced by a later leader (term ${entry.term}); it was not applied`,
        ),
      );
    }
  }

  #confirmRead(id: number, index: number): void {
    const read = this.#reads.get(id);
    if (read === undefined) return;
    this.#reads.delete(id);
    this.#readyReads.push({ index, read });
  }

  #releaseReads(): void {
    const applied = this.#applied;
    if (this.#appliedWaiters.length > 0) {
      const waiting = this.#appliedWaiters.filter((waiter) => waiter.index > applied);
      for (const waiter of this.#appliedWaiters) if (waiter.index <= applied) waiter.resolve();
      this.#appliedWaiters = waiting;
    }
    if (this.#readyReads.length === 0) return;
    const waiting: { index: number; read: PendingRead }[] = [];
    for (const item of this.#readyReads) {
      if (item.index <= applied) item.read.resolve(item.index);
      else waiting.push(item);
    }
    this.#readyReads = waiting;
  }

  #afterBatch(): void {
    this.#releaseReads();
    const status = this.#node.status();
    const due =
      this.#appliedSinceSnapshot >= this.#snapshotAfterEntries ||
      this.#bytesSinceSnapshot >= this.#snapshotAfterBytes;
    if (!due || status.applied <= status.snapshotIndex) return;
    const started = performance.now();
    const data = this.#options.stateMachine.snapshot();
    this.#node.compact(status.applied, data);
    this.#appliedSinceSnapshot = 0;
    this.#bytesSinceSnapshot = 0;
    this.#snapshotAfterEntries = this.#jittered(this.#options.snapshotThresholdEntries);
    this.#snapshotAfterBytes = this.#jittered(this.#options.snapshotThresholdBytes);
    this.#log.info(
      {
        index: status.applied,
        term: status.term,
        bytes: data.length,
        ms: Math.round(performance.now() - started),
      },
      'took a snapshot',
    );
  }

  #softStateChanged(): void {
    const status = this.#node.status();
    const before = this.#lastStatus;
    this.#lastStatus = status;
    if (before.role === status.role && before.leaderId === status.leaderId) return;
    this.#log.info(
      { term: status.term, role: status.role, leader: status.leaderId, commit: status.commit },
      status.role === 'leader' ? 'became leader' : `now ${status.role}`,
    );
    // Proposals of a leader that lost office may still commit under the next leader; they are
    // settled when their index is applied, or replaced. The core fails the reads it can no longer serve.
    this.#options.observer?.softState?.(status);
  }

  /**
   * Fails everything that waits. Proposals get OUTCOME_UNKNOWN, never NOT_LEADER: their entries may
   * already be stored on a quorum (appends leave before the leader's own fsync) and commit under
   * the next leader, so a caller that retried them could apply a command twice. Reads are safe to retry.
   */
  #failAll(reason: string): void {
    const unknown = new RaftError(
      'OUTCOME_UNKNOWN',
      `${reason}; the outcome of the write is unknown, read before retrying`,
    );
    for (const proposal of this.#proposals.values()) proposal.reject(unknown);
    this.#proposals.clear();
    const noLeader = new RaftError('NO_LEADER', `${reason}; retry the read on another server`);
    for (const read of this.#reads.values()) read.reject(noLeader);
    this.#reads.clear();
    for (const { read } of this.#readyReads) read.reject(noLeader);
    this.#readyReads = [];
    // Waiters for an applied index learn nothing more on a stopped server; they check the index again.
    for (const waiter of this.#appliedWaiters) waiter.resolve();
    this.#appliedWaiters = [];
  }
}
