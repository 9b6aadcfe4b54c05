import { quorumSize } from './quorum.js';
import type { NodeId } from './types.js';

/** A read request that the leader is confirming; `from` is 0 for a read made on the leader itself. */
export interface PendingRead {
  readonly requestId: number;
  readonly from: NodeId;
  readonly index: number;
  /** Heartbeat round whose acknowledgement by a quorum confirms that the leader still led after the read arrived. */
  readonly round: number;
}

/**
 * ReadIndex on the leader. A read records the commit index, then waits until a quorum of voters
 * has acknowledged a heartbeat round sent after the read arrived. That proves that no other leader
 * had taken over at that moment, so the recorded index includes every write acknowledged before.
 * Reads that arrive before the next round starts share it, so a burst of reads costs one round.
 */
export class ReadIndexQueue {
  #round = 0;
  #due = false;
  #pending: PendingRead[] = [];
  /** Highest round each voter has acknowledged in the current term. */
  #acked = new Map<NodeId, number>();

  get round(): number {
    return this.#round;
  }

  get size(): number {
    return this.#pending.length;
  }

  /** True when reads wait for a round that `startRound` has not started yet. */
  get due(): boolean {
    return this.#due;
  }

  /** Queues a read at `index` for the next round, which the caller starts with `startRound`. */
  add(requestId: number, from: NodeId, index: number): void {
    this.#pending.push({ requestId, from, index, round: this.#round + 1 });
    this.#due = true;
  }

  /** Starts the round that queued reads wait for; returns false when none waits. */
  startRound(): boolean {
    if (!this.#due) return false;
    this.#due = false;
    this.#round++;
    return true;
  }

  /** Records an acknowledgement and returns the reads that a quorum has now confirmed, in order. */
  acknowledge(voter: NodeId, round: number, self: NodeId, voters: readonly NodeId[]): PendingRead[] {
    // A round this leader never sent cannot confirm anything; it comes from a faulty peer.
    if (round > this.#round) return [];
    if (round > (this.#acked.get(voter) ?? 0)) this.#acked.set(voter, round);
    return this.release(self, voters);
  }

  /** Returns the reads confirmed by a quorum (the leader counts itself when it is a voter). */
  release(self: NodeId, voters: readonly NodeId[]): PendingRead[] {
    if (this.#pending.length === 0) return [];
    const rounds = voters.map((id) => (id === self ? this.#round : (this.#acked.get(id) ?? 0)));
    rounds.sort((a, b) => b - a);
    const confirmed = rounds[quorumSize(voters.length) - 1] ?? 0;
    let count = 0;
    while (count < this.#pending.length && this.#pending[count]!.round <= confirmed) count++;
    return this.#pending.splice(0, count);
  }

  /** Drops every pending read (the leader lost office) and returns them so callers learn they failed. */
  clear(): PendingRead[] {
    const dropped = this.#pending;
    this.#pending = [];
    this.#due = false;
    this.#acked.clear();
    return dropped;
  }
}
