import { RaftError } from '../../src/raft/errors.js';
import type { Entry, MembershipChange, NodeId } from '../../src/raft/types.js';
import type { ProposalLedger } from './checker.js';
import { commandText } from './entry-key.js';
import type { Prng } from './prng.js';
import type { SimServer } from './server.js';

/** What the client workload needs from the simulation. */
export interface WorkloadWorld {
  /** Running servers in id order. */
  runningServers(): SimServer[];
  server(id: NodeId): SimServer | undefined;
  /** The running leader with the highest term, or null. */
  leader(): SimServer | null;
  /** Creates and starts a server with a never-used id and an empty log. */
  addServer(): SimServer;
  /** Stops a server that never became a member. */
  retireServer(server: SimServer): void;
  /** Called after the client touched `server`: runs its driver loop and checks invariants. */
  settle(server: SimServer): void;
  readRequested(server: SimServer, requestId: number): void;
  trace(text: string): void;
}

interface Proposal {
  readonly server: NodeId;
  readonly incarnation: number;
  /** Log position returned by `propose`, or null when `propose` threw. */
  readonly position: { readonly index: number; readonly term: number } | null;
  acknowledged: boolean;
}

export interface WorkloadStats {
  proposals: number;
  rejectedProposals: number;
  acknowledged: number;
  reads: number;
  membershipChanges: number;
  transfers: number;
}

const encoder = new TextEncoder();

/**
 * The clients of the simulated cluster: writes with unique payloads sent to the leader they
 * believe in (following NOT_LEADER hints), ReadIndex reads, membership changes, leadership
 * transfers. A write is acknowledged when the server that accepted it applies it at the index
 * and term that `propose` returned.
 */
export class Workload implements ProposalLedger {
  readonly #rng: Prng;
  readonly #world: WorkloadWorld;
  readonly #minVoters: number;
  readonly #maxAddedServers: number;
  readonly #proposals = new Map<string, Proposal>();
  #nextPayload = 1;
  #nextRead = 1;
  #addedServers = 0;
  #knownLeader: NodeId = 0;
  #maxAcknowledgedIndex = 0;
  readonly stats: WorkloadStats = {
    proposals: 0,
    rejectedProposals: 0,
    acknowledged: 0,
    reads: 0,
    membershipChanges: 0,
    transfers: 0,
  };

  constructor(rng: Prng, world: WorkloadWorld, founders: number, maxAddedServers: number) {
    this.#rng = rng;
    this.#world = world;
    // Never shrink below three voters (or one for a single-server cluster), so that removals
    // alone cannot cost the cluster its fault tolerance.
    this.#minVoters = Math.min(3, founders);
    this.#maxAddedServers = maxAddedServers;
  }

  /** Highest index of an acknowledged write: after the faults, every member must apply it. */
  get maxAcknowledgedIndex(): number {
    return this.#maxAcknowledgedIndex;
  }

  proposalOutcome(payload: string): 'accepted' | 'rejected' | undefined {
    const proposal = this.#proposals.get(payload);
    if (proposal === undefined) return undefined;
    return proposal.position === null ? 'rejected' : 'accepted';
  }

  /** Performs one client action, drawn at random. */
  act(): void {
    const roll = this.#rng.float();
    if (roll < 0.6) {
      const count = this.#rng.between(1, 3);
      for (let i = 0; i < count; i++) this.#propose();
    } else if (roll < 0.75) {
      this.#read();
    } else if (roll < 0.85) {
      this.#changeMembership();
    } else if (roll < 0.89) {
      this.#transferLeadership();
    }
  }

  /** Records acknowledgements. Called for every entry that any server applies. */
  applied(server: SimServer, entry: Entry): void {
    if (entry.kind !== 'command') return;
    const proposal = this.#proposals.get(commandText(entry.data));
    if (
      proposal === undefined ||
      proposal.acknowledged ||
      proposal.position === null ||
      proposal.server !== server.id ||
      proposal.incarnation !== server.incarnation ||
      proposal.position.index !== entry.index ||
      proposal.position.term !== entry.term
    ) {
      return;
    }
    proposal.acknowledged = true;
    this.stats.acknowledged++;
    this.#maxAcknowledgedIndex = Math.max(this.#maxAcknowledgedIndex, entry.index);
  }

  #propose(): void {
    let target = this.#pickTarget();
    // Follow at most two NOT_LEADER hints, as a client library would before backing off.
    for (let hop = 0; hop < 3 && target !== undefined; hop++) {
      const payload = `w${this.#nextPayload++}`;
      this.stats.proposals++;
      try {
        const position = target.node.propose(encoder.encode(payload));
        this.#proposals.set(payload, {
          server: target.id,
          incarnation: target.incarnation,
          position,
          acknowledged: false,
        });
        this.#knownLeader = target.id;
        this.#world.trace(
          `client proposes ${payload} to ${target.id}: index ${position.index}, term ${position.term}`,
        );
        this.#world.settle(target);
        return;
      } catch (error) {
        if (!(error instanceof RaftError)) throw error;
        this.#proposals.set(payload, {
          server: target.id,
          incarnation: target.incarnation,
          position: null,
          acknowledged: false,
        });
        this.stats.rejectedProposals++;
        this.#world.trace(
          `client proposes ${payload} to ${target.id}: ${error.code} (leader hint ${error.leaderId})`,
        );
        const hinted = error.leaderId === target.id ? undefined : this.#world.server(error.leaderId);
        this.#knownLeader = hinted?.running ? hinted.id : 0;
        target = hinted?.running ? hinted : undefined;
      }
    }
  }

  /** The leader the client believes in, or sometimes any server, so NOT_LEADER paths run too. */
  #pickTarget(): SimServer | undefined {
    const known = this.#world.server(this.#knownLeader);
    if (known?.running && !this.#rng.chance(0.1)) return known;
    const running = this.#world.runningServers();
    return running.length === 0 ? undefined : this.#rng.pick(running);
  }

  #read(): void {
    const running = this.#world.runningServers();
    if (running.length === 0) return;
    const server = this.#rng.pick(running);
    const requestId = this.#nextRead++;
    this.stats.reads++;
    this.#world.readRequested(server, requestId);
    try {
      server.node.readIndex(requestId);
      this.#world.trace(`client reads on ${server.id}: request ${requestId}`);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      this.#world.trace(`client reads on ${server.id}: ${error.code}`);
    }
    this.#world.settle(server);
  }

  #changeMembership(): void {
    const leader = this.#world.leader();
    if (leader === null) return;
    const { voters, learners } = leader.status().membership;
    const commit = leader.status().commit;
    const promotable = learners.filter((id) => {
      const server = this.#world.server(id);
      return server?.running === true && server.app.index >= commit;
    });
    const removable = [...learners, ...(voters.length > this.#minVoters ? voters : [])];
    const canAdd = this.#addedServers < this.#maxAddedServers;

    const choices: (() => void)[] = [];
    if (promotable.length > 0)
      choices.push(() =>
        this.#proposeChange(leader, { type: 'promote', nodeId: this.#rng.pick(promotable) }),
      );
    if (removable.length > 0)
      choices.push(() => this.#proposeChange(leader, { type: 'remove', nodeId: this.#rng.pick(removable) }));
    if (canAdd) choices.push(() => this.#addLearner(leader));
    if (choices.length > 0) this.#rng.pick(choices)();
  }

  #addLearner(leader: SimServer): void {
    const server = this.#world.addServer();
    this.#addedServers++;
    if (!this.#proposeChange(leader, { type: 'add-learner', nodeId: server.id }))
      this.#world.retireServer(server);
  }

  /** Proposes `change` on `leader`. Returns whether the leader accepted it. */
  #proposeChange(leader: SimServer, change: MembershipChange): boolean {
    this.stats.membershipChanges++;
    try {
      const position = leader.node.proposeMembership(change);
      this.#world.trace(
        `client proposes ${change.type} ${change.nodeId} to ${leader.id}: index ${position.index}`,
      );
      this.#world.settle(leader);
      return true;
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      this.#world.trace(`client proposes ${change.type} ${change.nodeId} to ${leader.id}: ${error.code}`);
      return false;
    }
  }

  #transferLeadership(): void {
    const leader = this.#world.leader();
    if (leader === null) return;
    const others = leader.status().membership.voters.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const target = this.#rng.pick(others);
    this.stats.transfers++;
    try {
      leader.node.transferLeadership(target);
      this.#world.trace(`client transfers leadership from ${leader.id} to ${target}`);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      this.#world.trace(`client transfers leadership from ${leader.id} to ${target}: ${error.code}`);
    }
    this.#world.settle(leader);
  }
}
