import type { Membership, NodeId } from '../raft/types.js';
import type { PeerInfo } from './peer-directory.js';

/** Input of the leader's reconciliation of the membership with the servers connected to it. */
export interface ReconcileView {
  readonly selfId: NodeId;
  readonly membership: Membership;
  readonly commit: number;
  /** Replication progress of each follower, from the leader's view. */
  readonly progress: readonly { readonly id: NodeId; readonly match: number }[];
  /** Servers connected to the leader right now (the leader included), with their current addresses. */
  readonly live: readonly PeerInfo[];
  /** The replicated directory of servers. */
  readonly recorded: readonly PeerInfo[];
  /** Live servers that have never been part of a cluster: the only ones that may join. */
  readonly pristine: readonly NodeId[];
}

export type ReconcileAction =
  | { readonly kind: 'record-server'; readonly server: PeerInfo }
  | { readonly kind: 'add-learner'; readonly id: NodeId }
  | { readonly kind: 'promote'; readonly id: NodeId };

/**
 * The leader's next step toward a membership that matches the servers connected to it, as Nomad's
 * leader does when servers join: every live server is recorded in the replicated directory with
 * its current addresses, a live server that is not a member joins as a learner, and a learner
 * becomes a voter once it has caught up with the commit index (so adding it does not stall
 * commits while it copies the log). Removed ids are never added again. One action at a time,
 * because the core accepts one membership change at a time.
 *
 * Servers are not removed automatically: an operator removes a dead server with
 * `operator raft remove-peer`.
 */
export function nextReconcileAction(view: ReconcileView): ReconcileAction | null {
  const recorded = new Map(view.recorded.map((server) => [server.id, server]));
  const removed = new Set(view.membership.removed);
  const members = new Set([...view.membership.voters, ...view.membership.learners]);
  for (const server of view.live) {
    if (removed.has(server.id)) continue;
    // A server of another cluster is not recorded in this one.
    if (!members.has(server.id) && !view.pristine.includes(server.id)) continue;
    const record = recorded.get(server.id);
    if (
      record === undefined ||
      record.name !== server.name ||
      record.rpcAddr !== server.rpcAddr ||
      record.httpAddr !== server.httpAddr
    ) {
      return { kind: 'record-server', server };
    }
  }
  // Only a pristine server joins. A server with a log of its own belongs to another cluster (or
  // founded one by mistake): its entries would not match this log, so it is never added.
  const pristine = new Set(view.pristine);
  for (const server of view.live) {
    if (!members.has(server.id) && !removed.has(server.id) && pristine.has(server.id)) {
      return { kind: 'add-learner', id: server.id };
    }
  }
  const match = new Map(view.progress.map((progress) => [progress.id, progress.match]));
  const live = new Set(view.live.map((server) => server.id));
  for (const id of view.membership.learners) {
    // TODO: wait until the learner has stayed healthy for a while (Nomad's autopilot waits 10 s),
    // so a server that fails right after catching up does not become a voter.
    if (live.has(id) && (match.get(id) ?? 0) >= view.commit) return { kind: 'promote', id };
  }
  return null;
}
