import type { Message } from '../../../src/raft/messages.js';
import { quorumSize } from '../../../src/raft/quorum.js';
import type { DurableState, Entry, NodeId } from '../../../src/raft/types.js';
import { formatEntry, formatMessage } from './format.js';
import { durableLastIndex, durableTerm, type ScriptServer } from './server.js';

/** A safety property of Raft that the cluster broke; the scenario fails at the command that broke it. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/**
 * Safety properties checked on every scenario, in addition to its own checks:
 * - election safety: at most one leader per term;
 * - state machine safety: no two servers apply different entries at one index;
 * - leader commit: an index that a leader commits is durable on a quorum of its voters;
 * - durable before send: a message leaves only once the term, vote and entries it vouches for
 *   are in storage;
 * - durable before apply: an entry is applied only once it was durable before its ready batch.
 */
export class Invariants {
  #leaderOfTerm = new Map<number, NodeId>();
  #appliedAt = new Map<number, { readonly key: string; readonly by: NodeId }>();
  #commitOf = new Map<NodeId, { readonly term: number; readonly commit: number }>();

  /** Checks the cross-server properties after a command. */
  afterCommand(servers: Iterable<ScriptServer>): void {
    const all = [...servers];
    for (const server of all) {
      if (server.node === null) continue;
      const status = server.node.status();
      if (status.role === 'leader') this.#checkOneLeader(status.term, server.id);
      this.#checkLeaderCommit(server, all);
    }
  }

  /** Forgets the commit index of a restarted server, which starts over from the lower durable one. */
  forgetCommit(id: NodeId): void {
    this.#commitOf.delete(id);
  }

  /**
   * Checks the messages of a batch that `server` has just persisted, against what is now durable
   * (and, for append acknowledgements, against the leader's storage).
   */
  beforeSend(
    server: ScriptServer,
    messages: readonly Message[],
    leaders: ReadonlyMap<NodeId, ScriptServer>,
  ): void {
    const durable = server.durable;
    for (const message of messages) {
      const problem =
        durabilityProblem(message, durable) ?? ackProblem(message, durable, leaders.get(message.to));
      if (problem !== null) {
        throw new InvariantError(
          `durable before send: ${formatMessage(message)} left node ${server.id}, but ${problem}`,
        );
      }
    }
  }

  /** Checks the entries that `server` applies from a batch, against storage before that batch. */
  beforeApply(server: ScriptServer, entries: readonly Entry[], before: DurableState): void {
    for (const entry of entries) {
      if (durableTerm(before, entry.index) !== entry.term) {
        throw new InvariantError(
          `durable before apply: node ${server.id} applies ${formatEntry(entry)}, which storage did not hold before this ready batch`,
        );
      }
      const key = formatEntry(entry);
      const earlier = this.#appliedAt.get(entry.index);
      if (earlier === undefined) this.#appliedAt.set(entry.index, { key, by: server.id });
      else if (earlier.key !== key) {
        throw new InvariantError(
          `state machine safety: node ${server.id} applies ${key} but node ${earlier.by} applied ${earlier.key}`,
        );
      }
    }
  }

  #checkOneLeader(term: number, id: NodeId): void {
    const known = this.#leaderOfTerm.get(term);
    if (known === undefined) this.#leaderOfTerm.set(term, id);
    else if (known !== id) {
      throw new InvariantError(`election safety: nodes ${known} and ${id} both led term ${term}`);
    }
  }

  #checkLeaderCommit(leader: ScriptServer, all: readonly ScriptServer[]): void {
    const status = leader.node!.status();
    const previous = this.#commitOf.get(leader.id);
    this.#commitOf.set(leader.id, { term: status.term, commit: status.commit });
    if (status.role !== 'leader' || previous === undefined || status.commit <= previous.commit) return;

    const term = durableTerm(leader.durable, status.commit);
    if (term === undefined) {
      throw new InvariantError(
        `leader commit: leader ${leader.id} committed index ${status.commit}, which is not in its own storage`,
      );
    }
    const voters = status.membership.voters;
    const holders = voters.filter((id) => {
      const server = all.find((candidate) => candidate.id === id);
      return server !== undefined && holdsEntry(server.durable, status.commit, term);
    });
    if (holders.length < quorumSize(voters.length)) {
      throw new InvariantError(
        `leader commit: leader ${leader.id} committed ${status.commit}/${term}, but only nodes [${holders.join(',')}] of voters [${voters.join(',')}] have it in storage`,
      );
    }
  }
}

function holdsEntry(durable: DurableState, index: number, term: number): boolean {
  if (durable.snapshot !== null && durable.snapshot.meta.index >= index) return true;
  return durableTerm(durable, index) === term;
}

/** Why `message` must not leave yet given what storage holds, or null when it may. */
function durabilityProblem(message: Message, durable: DurableState): string | null {
  const { term, vote } = durable.hardState;
  const isPreVote = (message.type === 'vote-request' || message.type === 'vote-response') && message.preVote;
  if (!isPreVote && message.term > term) return `storage holds term ${term}`;

  switch (message.type) {
    case 'vote-request':
      if (!message.preVote && term === message.term && vote !== message.from) {
        return `storage holds vote ${vote} in term ${term}, not the candidate's own vote`;
      }
      return null;
    case 'vote-response':
      if (!message.preVote && message.granted && term === message.term && vote !== message.to) {
        return `storage holds vote ${vote} in term ${term}`;
      }
      return null;
    case 'append-response':
      if (message.success && durableLastIndex(durable) < message.index) {
        return `storage holds entries only up to ${durableLastIndex(durable)}`;
      }
      return null;
    case 'snapshot-response':
      if (message.installed && durableLastIndex(durable) < message.snapshotIndex) {
        return `storage holds entries only up to ${durableLastIndex(durable)}`;
      }
      return null;
    default:
      return null;
  }
}

/**
 * An append acknowledgement vouches that storage contains the leader's entries up to `index`.
 * While the leader's storage is still in the term of the message, the entries must match it.
 */
function ackProblem(
  message: Message,
  durable: DurableState,
  leader: ScriptServer | undefined,
): string | null {
  if (message.type !== 'append-response' || !message.success || leader === undefined) return null;
  if (leader.durable.hardState.term !== message.term) return null;
  const from = (durable.snapshot?.meta.index ?? 0) + 1;
  for (let index = from; index <= message.index; index++) {
    const own = durableTerm(durable, index);
    const leaders = durableTerm(leader.durable, index);
    if (own !== undefined && leaders !== undefined && own !== leaders) {
      return `its storage holds term ${own} at index ${index} where the leader holds term ${leaders}`;
    }
  }
  return null;
}
