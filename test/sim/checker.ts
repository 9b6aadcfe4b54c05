import type { Message } from '../../src/raft/messages.js';
import type {
  Entry,
  HardState,
  NodeId,
  PersistBatch,
  ReadState,
  Role,
  Snapshot,
} from '../../src/raft/types.js';
import { AppState, chainHash } from './app.js';
import type { DurableLog } from './durable-log.js';
import { commandText, entryKey } from './entry-key.js';
import { Violation } from './violation.js';

/** What the checker reads from a simulated server. */
export interface CheckedServer {
  readonly id: NodeId;
  /** Number of times the server started. Volatile state belongs to one incarnation. */
  readonly incarnation: number;
  readonly durable: DurableLog;
  readonly app: AppState;
}

/** The fields of `RaftNode.status()` that the checker uses. */
export interface ObservedStatus {
  readonly term: number;
  readonly role: Role;
  readonly commit: number;
  readonly applied: number;
}

/** Knows whether a payload was ever proposed, and whether the proposal was rejected. */
export interface ProposalLedger {
  proposalOutcome(payload: string): 'accepted' | 'rejected' | undefined;
}

interface CommittedEntry {
  readonly term: number;
  readonly key: string;
  /** App hash chain after applying this entry. */
  readonly chain: number;
}

/** An entry seen in some durable log, for the log matching check. */
interface LoggedEntry {
  readonly term: number;
  readonly key: string;
  readonly previousTerm: number;
  readonly server: NodeId;
}

interface ReadRequest {
  readonly server: NodeId;
  /** Highest commit index that any server had reached when the read was requested. */
  readonly clusterCommit: number;
}

/**
 * Safety invariants of Raft, checked as the simulation runs. Each check is incremental: it looks
 * at what one server just persisted, sent, applied or reported, against the history of the run.
 * A broken invariant throws a Violation.
 */
export class InvariantChecker {
  readonly #ledger: ProposalLedger;
  readonly #leaderByTerm = new Map<number, NodeId>();
  /** Entries by index, one per distinct term seen at that index in any durable log. */
  readonly #logged = new Map<number, LoggedEntry[]>();
  /** The applied sequence of the cluster: position i contains the entry at index i + 1. */
  readonly #committed: CommittedEntry[] = [];
  /**
   * Position i: an upper bound of the term in which the entry at index i + 1 was committed. It is
   * the lowest term of a server seen with that index committed, lowered so that it never decreases
   * with the index (an entry is committed no later than the entries after it).
   */
  readonly #commitTerms: number[] = [];
  readonly #commandIndexes = new Map<string, number>();
  readonly #commitByServer = new Map<NodeId, { incarnation: number; commit: number }>();
  readonly #reads = new Map<number, ReadRequest>();
  #clusterCommit = 0;
  #elections = 0;
  #readsServed = 0;
  #snapshotsInstalled = 0;

  constructor(ledger: ProposalLedger) {
    this.#ledger = ledger;
  }

  /** Leaders elected so far: distinct (term, leader) pairs observed. */
  get elections(): number {
    return this.#elections;
  }

  get readsServed(): number {
    return this.#readsServed;
  }

  /** Snapshots that servers received from a leader and restored. */
  get snapshotsInstalled(): number {
    return this.#snapshotsInstalled;
  }

  /** Highest index applied by any server, i.e. known committed with its content. */
  get appliedIndex(): number {
    return this.#committed.length;
  }

  /** Highest commit index that any server reported or applied. */
  get clusterCommit(): number {
    return this.#clusterCommit;
  }

  /** Checks a batch that `server` just made durable. `before` is its hard state before the batch. */
  afterPersist(server: CheckedServer, batch: PersistBatch, before: HardState): void {
    const storage = server.durable;
    const snapshotIndex = batch.snapshot?.meta.index ?? 0;
    if (batch.truncateFrom !== null && batch.truncateFrom <= before.commit && before.commit > snapshotIndex) {
      throw new Violation('log-matching', `server ${server.id} truncated committed entries`, {
        server: server.id,
        truncateFrom: batch.truncateFrom,
        durableCommit: before.commit,
      });
    }
    if (batch.compactTo !== null && batch.compactTo > storage.snapshotIndex) {
      throw new Violation(
        'durable-state',
        `server ${server.id} compacted entries that no durable snapshot covers`,
        {
          server: server.id,
          compactTo: batch.compactTo,
          snapshotIndex: storage.snapshotIndex,
        },
      );
    }
    if (batch.snapshot !== null) this.#checkSnapshotMeta(server, batch.snapshot);
    for (const entry of batch.entries) this.#checkLogMatching(server, entry);
    if (batch.hardState !== null) this.#checkHardState(server, before, batch.hardState);
  }

  #checkSnapshotMeta(server: CheckedServer, snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    const committed = this.#committed[index - 1];
    if (committed === undefined || committed.term !== term) {
      throw new Violation(
        'snapshot',
        `server ${server.id} persisted a snapshot of an entry that is not committed`,
        {
          server: server.id,
          snapshotIndex: index,
          snapshotTerm: term,
          committedTerm: committed?.term ?? null,
        },
      );
    }
    const logTerm = server.durable.entryAt(index)?.term;
    if (logTerm !== undefined && logTerm !== term) {
      throw new Violation(
        'snapshot',
        `server ${server.id} kept a log entry that conflicts with its snapshot`,
        {
          server: server.id,
          snapshotIndex: index,
          snapshotTerm: term,
          logTerm,
        },
      );
    }
  }

  /**
   * Log matching, checked entry by entry: an (index, term) pair must always name the same content
   * and follow the same previous term. By induction, two logs that share an (index, term) then
   * hold the same entries up to that index.
   */
  #checkLogMatching(server: CheckedServer, entry: Entry): void {
    const previousTerm = server.durable.termAt(entry.index - 1);
    if (previousTerm === undefined) {
      throw new Violation(
        'storage',
        `server ${server.id} persisted entry ${entry.index} after an unknown entry`,
        {
          server: server.id,
          index: entry.index,
        },
      );
    }
    const key = entryKey(entry);
    let seen = this.#logged.get(entry.index);
    if (seen === undefined) {
      seen = [];
      this.#logged.set(entry.index, seen);
    }
    const same = seen.find((logged) => logged.term === entry.term);
    if (same === undefined) {
      seen.push({ term: entry.term, key, previousTerm, server: server.id });
      return;
    }
    if (same.key !== key || same.previousTerm !== previousTerm) {
      throw new Violation(
        'log-matching',
        `two logs hold different entries at index ${entry.index}, term ${entry.term}`,
        {
          index: entry.index,
          term: entry.term,
          server: server.id,
          entry: key,
          previousTerm,
          otherServer: same.server,
          otherEntry: same.key,
          otherPreviousTerm: same.previousTerm,
        },
      );
    }
  }

  #checkHardState(server: CheckedServer, before: HardState, after: HardState): void {
    const details = { server: server.id, before, after };
    if (after.term < before.term) {
      throw new Violation('durable-state', `server ${server.id} persisted a lower term`, details);
    }
    if (after.term === before.term && before.vote !== 0 && after.vote !== before.vote) {
      throw new Violation(
        'durable-state',
        `server ${server.id} changed its vote within term ${after.term}`,
        details,
      );
    }
    if (after.commit < before.commit) {
      throw new Violation('commit-monotonic', `server ${server.id} persisted a lower commit index`, details);
    }
    if (after.commit > server.durable.lastIndex) {
      throw new Violation(
        'durable-state',
        `server ${server.id} persisted a commit index beyond its durable log`,
        {
          ...details,
          lastIndex: server.durable.lastIndex,
        },
      );
    }
  }

  /** Checks that `message` depends only on state that `server` has already made durable. */
  beforeSend(server: CheckedServer, message: Message): void {
    if (message.from !== server.id || message.to === server.id || message.to <= 0) {
      throw new Violation('message', `server ${server.id} sent a message with a wrong address`, {
        server: server.id,
        type: message.type,
        from: message.from,
        to: message.to,
      });
    }
    const durable = server.durable.hardState;
    const preVote = (message.type === 'vote-request' || message.type === 'vote-response') && message.preVote;
    const details = {
      server: server.id,
      type: message.type,
      to: message.to,
      messageTerm: message.term,
      durable,
    };
    if (!preVote && message.term > durable.term) {
      throw new Violation(
        'persist-before-send',
        `server ${server.id} sent term ${message.term} before persisting it`,
        details,
      );
    }
    if (message.type === 'vote-request' && !preVote && durable.vote !== server.id) {
      throw new Violation(
        'persist-before-send',
        `server ${server.id} requested votes before persisting its own vote`,
        details,
      );
    }
    if (message.type === 'vote-response' && !preVote && message.granted) {
      if (durable.term !== message.term || durable.vote !== message.to) {
        throw new Violation(
          'persist-before-send',
          `server ${server.id} granted a vote before persisting it`,
          details,
        );
      }
    }
    if (message.type === 'append-response' && message.success && message.index > server.durable.lastIndex) {
      throw new Violation(
        'persist-before-send',
        `server ${server.id} acknowledged entries it has not persisted`,
        {
          ...details,
          acknowledged: message.index,
          lastIndex: server.durable.lastIndex,
        },
      );
    }
    if (
      message.type === 'snapshot-response' &&
      message.installed &&
      message.snapshotIndex > server.durable.lastIndex
    ) {
      throw new Violation(
        'persist-before-send',
        `server ${server.id} acknowledged a snapshot it has not persisted`,
        {
          ...details,
          snapshotIndex: message.snapshotIndex,
          lastIndex: server.durable.lastIndex,
        },
      );
    }
  }

  /**
   * Decodes snapshot data for `server` and checks it against the applied sequence of the cluster.
   * Returns the state to install.
   */
  checkRestore(server: CheckedServer, snapshot: Snapshot, context: 'install' | 'restart'): AppState {
    const { index, term } = snapshot.meta;
    let state: AppState;
    try {
      state = AppState.decode(snapshot.data);
    } catch (error) {
      throw new Violation('snapshot', `server ${server.id} received snapshot data that does not decode`, {
        server: server.id,
        snapshotIndex: index,
        error: String(error),
      });
    }
    const committed = this.#committed[index - 1];
    const details = {
      server: server.id,
      context,
      snapshotIndex: index,
      snapshotTerm: term,
      dataIndex: state.index,
      applied: server.app.index,
    };
    if (state.index !== index || state.term !== term) {
      throw new Violation(
        'snapshot',
        `server ${server.id} got snapshot data for another log position`,
        details,
      );
    }
    if (committed === undefined || committed.chain !== state.chain || committed.term !== term) {
      throw new Violation(
        'state-machine-safety',
        `server ${server.id} restored a state that no server applied`,
        details,
      );
    }
    if (context === 'install' && index < server.app.index) {
      throw new Violation(
        'apply-order',
        `server ${server.id} would restore a snapshot behind what it applied`,
        details,
      );
    }
    if (context === 'install') this.#snapshotsInstalled++;
    return state;
  }

  /** Checks `entry`, which `server` is about to apply. `server.app` has not applied it yet. */
  checkApply(server: CheckedServer, entry: Entry): void {
    const expected = server.app.index + 1;
    if (entry.index !== expected) {
      throw new Violation(
        'apply-order',
        `server ${server.id} applied index ${entry.index} where ${expected} was next`,
        {
          server: server.id,
          index: entry.index,
          expected,
        },
      );
    }
    if (entry.index > server.durable.lastIndex) {
      throw new Violation(
        'persist-before-send',
        `server ${server.id} applied entry ${entry.index} before persisting it`,
        {
          server: server.id,
          index: entry.index,
          lastIndex: server.durable.lastIndex,
        },
      );
    }
    const key = entryKey(entry);
    const chain = chainHash(server.app.chain, entry);
    const committed = this.#committed[entry.index - 1];
    if (committed !== undefined) {
      if (committed.key !== key || committed.chain !== chain) {
        throw new Violation(
          'state-machine-safety',
          `server ${server.id} applied a different entry at index ${entry.index}`,
          {
            server: server.id,
            index: entry.index,
            applied: key,
            appliedElsewhere: committed.key,
          },
        );
      }
      return;
    }
    if (entry.kind === 'command') this.#checkNewCommand(server, entry.index, commandText(entry.data));
    this.#committed.push({ term: entry.term, key, chain });
    this.#clusterCommit = Math.max(this.#clusterCommit, entry.index);
  }

  #checkNewCommand(server: CheckedServer, index: number, payload: string): void {
    const outcome = this.#ledger.proposalOutcome(payload);
    const earlier = this.#commandIndexes.get(payload);
    const details = {
      server: server.id,
      index,
      payload,
      outcome: outcome ?? 'never proposed',
      earlierIndex: earlier,
    };
    if (outcome !== 'accepted') {
      throw new Violation(
        'command-integrity',
        `server ${server.id} applied a command that no accepted proposal made`,
        details,
      );
    }
    if (earlier !== undefined) {
      throw new Violation('command-integrity', `command ${payload} was applied at two indexes`, details);
    }
    this.#commandIndexes.set(payload, index);
  }

  /** Checks the state that `server` reports after it handled every ready batch of a step. */
  observe(server: CheckedServer, status: ObservedStatus): void {
    this.#recordCommitTerms(status.commit, status.term);
    if (status.role === 'leader') {
      const leader = this.#leaderByTerm.get(status.term);
      if (leader === undefined) {
        this.#leaderByTerm.set(status.term, server.id);
        this.#elections++;
        this.#checkLeaderCompleteness(server, status.term);
      } else if (leader !== server.id) {
        throw new Violation(
          'election-safety',
          `servers ${leader} and ${server.id} both lead term ${status.term}`,
          {
            term: status.term,
            leaders: [leader, server.id],
          },
        );
      }
    }
    const previous = this.#commitByServer.get(server.id);
    if (
      previous !== undefined &&
      previous.incarnation === server.incarnation &&
      status.commit < previous.commit
    ) {
      throw new Violation('commit-monotonic', `server ${server.id} moved its commit index back`, {
        server: server.id,
        before: previous.commit,
        after: status.commit,
      });
    }
    this.#commitByServer.set(server.id, { incarnation: server.incarnation, commit: status.commit });
    this.#clusterCommit = Math.max(this.#clusterCommit, status.commit);
    if (status.applied !== server.app.index || status.applied > status.commit) {
      throw new Violation(
        'apply-order',
        `server ${server.id} reports applied ${status.applied}, its state machine is at ${server.app.index}`,
        {
          server: server.id,
          applied: status.applied,
          stateMachine: server.app.index,
          commit: status.commit,
        },
      );
    }
  }

  /** Checks a server that just started from durable state: its commit index starts from the durable one. */
  observeRestart(server: CheckedServer, status: ObservedStatus): void {
    const durableCommit = server.durable.hardState.commit;
    if (status.commit < durableCommit) {
      throw new Violation(
        'commit-monotonic',
        `server ${server.id} restarted with a commit index below its durable one`,
        {
          server: server.id,
          commit: status.commit,
          durableCommit,
        },
      );
    }
    this.#commitByServer.set(server.id, { incarnation: server.incarnation, commit: status.commit });
  }

  #recordCommitTerms(commit: number, term: number): void {
    const terms = this.#commitTerms;
    for (let i = terms.length - 1; i >= 0 && terms[i]! > term && i < commit; i--) terms[i] = term;
    while (terms.length < commit) terms.push(term);
  }

  /**
   * Leader Completeness: a leader of term T holds every entry committed in a term before T.
   * A leader elected late in an old term (its votes were delayed) may lack entries that a later
   * term committed, so only entries known to be committed before T are required.
   */
  #checkLeaderCompleteness(server: CheckedServer, term: number): void {
    const storage = server.durable;
    let last = Math.min(this.#committed.length, this.#commitTerms.length);
    while (last > 0 && this.#commitTerms[last - 1]! >= term) last--;
    if (storage.lastIndex < last) {
      throw new Violation(
        'leader-completeness',
        `leader ${server.id} of term ${term} lacks committed entries`,
        {
          server: server.id,
          term,
          lastIndex: storage.lastIndex,
          committed: last,
        },
      );
    }
    for (let index = storage.snapshotIndex + 1; index <= last; index++) {
      const entry = storage.entryAt(index);
      const committed = this.#committed[index - 1]!;
      if (entry === undefined || entryKey(entry) !== committed.key) {
        throw new Violation(
          'leader-completeness',
          `leader ${server.id} of term ${term} holds a different entry at ${index}`,
          {
            server: server.id,
            term,
            index,
            found: entry === undefined ? null : entryKey(entry),
            committed: committed.key,
          },
        );
      }
    }
  }

  readRequested(server: CheckedServer, requestId: number): void {
    this.#reads.set(requestId, { server: server.id, clusterCommit: this.#clusterCommit });
  }

  /** A read index must cover every commit that the cluster had reached when the read was requested. */
  checkReadState(server: CheckedServer, readState: ReadState): void {
    const request = this.#reads.get(readState.requestId);
    const details = {
      server: server.id,
      requestId: readState.requestId,
      readIndex: readState.index,
      requestedOn: request?.server ?? null,
      clusterCommitAtRequest: request?.clusterCommit ?? null,
    };
    // A server may get the response to a read that it requested before a crash: the request id
    // is still its own, and the index must still be fresh enough.
    if (request === undefined || request.server !== server.id) {
      throw new Violation(
        'read-index',
        `server ${server.id} returned a read for a request it did not make`,
        details,
      );
    }
    if (readState.index < request.clusterCommit) {
      throw new Violation(
        'read-index',
        `read ${readState.requestId} got index ${readState.index}, behind the commit index at request time`,
        details,
      );
    }
    this.#readsServed++;
  }
}
