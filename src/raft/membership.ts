import { RaftError } from './errors.js';
import type { Membership, MembershipChange, NodeId } from './types.js';

export const EMPTY_MEMBERSHIP: Membership = { voters: [], learners: [], removed: [] };

export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id);
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

/** Returns every member, voters first, each once. */
export function members(membership: Membership): NodeId[] {
  return [...membership.voters, ...membership.learners];
}

/**
 * Applies one single-server change, rejecting changes that would re-admit a removed id,
 * promote a non-learner or leave the cluster without voters.
 */
export function applyMembershipChange(membership: Membership, change: MembershipChange): Membership {
  const { nodeId } = change;
  if (!Number.isSafeInteger(nodeId) || nodeId <= 0) {
    throw new RaftError(
      'MEMBERSHIP_CHANGE_INVALID',
      `invalid node id ${nodeId}: node ids are positive integers`,
    );
  }
  switch (change.type) {
    case 'add-learner':
      if (membership.removed.includes(nodeId)) {
        throw new RaftError(
          'MEMBERSHIP_CHANGE_INVALID',
          `cannot add node ${nodeId}: the id belonged to a removed server and ids are never reused`,
        );
      }
      if (isMember(membership, nodeId)) {
        throw new RaftError('MEMBERSHIP_CHANGE_INVALID', `cannot add node ${nodeId}: it is already a member`);
      }
      return { ...membership, learners: [...membership.learners, nodeId] };
    case 'promote':
      if (!membership.learners.includes(nodeId)) {
        throw new RaftError(
          'MEMBERSHIP_CHANGE_INVALID',
          `cannot promote node ${nodeId}: it is not a learner`,
        );
      }
      return {
        ...membership,
        voters: [...membership.voters, nodeId],
        learners: membership.learners.filter((id) => id !== nodeId),
      };
    case 'remove':
      if (!isMember(membership, nodeId)) {
        throw new RaftError('MEMBERSHIP_CHANGE_INVALID', `cannot remove node ${nodeId}: it is not a member`);
      }
      if (membership.voters.length === 1 && membership.voters[0] === nodeId) {
        throw new RaftError(
          'MEMBERSHIP_CHANGE_INVALID',
          `cannot remove node ${nodeId}: it is the last voter`,
        );
      }
      return {
        voters: membership.voters.filter((id) => id !== nodeId),
        learners: membership.learners.filter((id) => id !== nodeId),
        removed: [...membership.removed, nodeId],
      };
  }
}

interface MembershipAt {
  readonly index: number;
  readonly membership: Membership;
}

/**
 * Memberships recorded in the log above the snapshot. A configuration takes effect as soon as
 * its entry is appended (the single-server change rule of the Raft dissertation), so truncating
 * the log must fall back to the previous one.
 */
export class MembershipLog {
  #base: MembershipAt;
  #changes: MembershipAt[] = [];

  constructor(base: MembershipAt) {
    this.#base = base;
  }

  latest(): Membership {
    return (this.#changes.at(-1) ?? this.#base).membership;
  }

  /** Index of the entry that set the latest membership (the snapshot index when none is in the log). */
  latestIndex(): number {
    return (this.#changes.at(-1) ?? this.#base).index;
  }

  /** Membership in force at `index`. */
  at(index: number): Membership {
    let found = this.#base;
    for (const change of this.#changes) {
      if (change.index > index) break;
      found = change;
    }
    return found.membership;
  }

  append(index: number, membership: Membership): void {
    this.#changes.push({ index, membership });
  }

  /** Forgets memberships of entries with index >= `index`. */
  truncateFrom(index: number): void {
    while (this.#changes.length > 0 && this.#changes.at(-1)!.index >= index) this.#changes.pop();
  }

  /** Makes the membership at `index` the base, dropping older history. */
  compact(index: number): void {
    const membership = this.at(index);
    this.#changes = this.#changes.filter((change) => change.index > index);
    this.#base = { index, membership };
  }

  /** Discards all history for a snapshot whose membership replaces it. */
  reset(index: number, membership: Membership): void {
    this.#base = { index, membership };
    this.#changes = [];
  }
}
