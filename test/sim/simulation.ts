import { bootstrapState, emptyState } from '../../src/raft/bootstrap.js';
import type { Message } from '../../src/raft/messages.js';
import type { Entry, NodeId } from '../../src/raft/types.js';
import { InvariantChecker } from './checker.js';
import { describeMessage } from './describe.js';
import { EventQueue } from './event-queue.js';
import { FaultInjector, type FaultWorld } from './faults.js';
import { SimNetwork } from './network.js';
import { NODE_STREAM, planSeed, type SeedPlan, type SimConfig, STREAMS, TICK } from './plan.js';
import { Prng } from './prng.js';
import { type CrashPoint, type ServerEnv, SimServer } from './server.js';
import { Violation } from './violation.js';
import { Workload, type WorkloadWorld } from './workload.js';

/** Upper bound of the application's snapshot data in bytes (see AppState.encode). */
const MAX_SNAPSHOT_BYTES = 512;

type SimEvent =
  | { readonly kind: 'tick'; readonly server: SimServer; readonly incarnation: number }
  | { readonly kind: 'deliver'; readonly message: Message }
  | { readonly kind: 'client' }
  | { readonly kind: 'fault' }
  | { readonly kind: 'restart'; readonly server: SimServer; readonly incarnation: number }
  | { readonly kind: 'stop'; readonly server: SimServer };

/** Totals of one seed. */
export interface SimStats {
  steps: number;
  ticks: number;
  /** Leaders elected: distinct (term, leader) pairs. */
  elections: number;
  /** Highest commit index reached, i.e. entries committed cluster-wide. */
  commits: number;
  messages: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  partitions: number;
  crashes: number;
  restarts: number;
  proposals: number;
  acknowledged: number;
  reads: number;
  readsServed: number;
  membershipChanges: number;
  transfers: number;
  snapshotsInstalled: number;
}

export interface ViolationReport {
  readonly invariant: string;
  readonly message: string;
  readonly step: number;
  /** Logical time in ticks. */
  readonly time: number;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface SeedResult {
  readonly seed: number;
  readonly servers: number;
  readonly steps: number;
  readonly violation: ViolationReport | null;
  readonly stats: SimStats;
}

/** Runs one seed: a fault phase of `config.steps` steps, then a liveness phase. */
export function runSeed(config: SimConfig): SeedResult {
  return new Simulation(config).run();
}

/**
 * One simulated cluster. Logical time advances from event to event. A step is one event: a tick
 * of one server, the delivery of one message, a client action or a fault action. After every
 * step that touched a server, that server's driver loop runs to completion and the invariant
 * checker inspects what it persisted, sent, applied and reports.
 */
class Simulation implements ServerEnv, WorkloadWorld, FaultWorld {
  readonly #config: SimConfig;
  readonly #plan: SeedPlan;
  readonly #queue = new EventQueue<SimEvent>();
  readonly #schedule: Prng;
  readonly #servers = new Map<NodeId, SimServer>();
  /** Servers whose removal some server applied: they stop after a while and never restart. */
  readonly #removed = new Set<NodeId>();
  readonly #unreachable: [SimServer, NodeId][] = [];
  readonly network: SimNetwork;
  readonly checker: InvariantChecker;
  readonly #workload: Workload;
  readonly #faults: FaultInjector;
  #now = 0;
  #step = 0;
  #phase: 'faults' | 'liveness' = 'faults';
  #nextId: NodeId;
  #restarts = 0;
  #livenessBound = 0;

  constructor(config: SimConfig) {
    this.#config = config;
    this.#plan = planSeed(config.seed);
    this.#schedule = new Prng(config.seed, STREAMS.schedule);
    this.network = new SimNetwork(
      new Prng(config.seed, STREAMS.network),
      this.#plan.timing,
      (time, message) => this.#queue.push(time, { kind: 'deliver', message }),
    );
    this.#workload = new Workload(
      new Prng(config.seed, STREAMS.workload),
      this,
      config.servers,
      this.#plan.maxAddedServers,
    );
    this.checker = new InvariantChecker(this.#workload);
    this.#faults = new FaultInjector(new Prng(config.seed, STREAMS.faults), this);
    this.#nextId = config.servers + 1;
  }

  get raftOptions(): SeedPlan['raftOptions'] {
    return this.#plan.raftOptions;
  }

  get compactEvery(): number {
    return this.#plan.compactEvery;
  }

  get sendsImmediately(): boolean {
    return this.#plan.sendsImmediately;
  }

  run(): SeedResult {
    let violation: ViolationReport | null = null;
    try {
      this.#startFounders();
      while (this.#step < this.#config.steps) this.#runNext();
      this.#phase = 'liveness';
      this.#faults.healAll();
      this.#awaitLiveness();
    } catch (error) {
      violation = this.#report(error);
    }
    return {
      seed: this.#config.seed,
      servers: this.#config.servers,
      steps: this.#config.steps,
      violation,
      stats: this.#stats(),
    };
  }

  // ---------------------------------------------------------------- event loop

  #startFounders(): void {
    const ids = Array.from({ length: this.#config.servers }, (_, i) => i + 1);
    const initial = bootstrapState(ids);
    for (const id of ids) this.#createServer(id, initial);
    this.#queue.push(this.#drawClientDelay(), { kind: 'client' });
    this.#queue.push(this.#drawFaultDelay(), { kind: 'fault' });
  }

  #createServer(id: NodeId, initial: ReturnType<typeof emptyState>): SimServer {
    const server = new SimServer(id, initial, new Prng(this.#config.seed, NODE_STREAM + id), this);
    this.#servers.set(id, server);
    this.#startServer(server);
    return server;
  }

  #startServer(server: SimServer): void {
    server.start();
    // Each server ticks at its own phase within the tick period, as separate processes would.
    this.#queue.push(this.#now + 1 + this.#schedule.int(TICK), {
      kind: 'tick',
      server,
      incarnation: server.incarnation,
    });
    this.settle(server);
  }

  /** Runs the next event and returns its kind. */
  #runNext(): SimEvent['kind'] {
    const next = this.#queue.pop();
    if (next === undefined) throw new Error('the event queue ran empty: no server is running');
    this.#now = next.time;
    this.#step++;
    const event = next.event;
    switch (event.kind) {
      case 'tick':
        if (!event.server.running || event.server.incarnation !== event.incarnation) break;
        event.server.node.tick();
        this.settle(event.server);
        // Clocks drift: each tick period is off by up to 10% either way.
        this.#queue.push(this.#now + TICK - TICK / 10 + this.#schedule.int(TICK / 5 + 1), event);
        break;
      case 'deliver':
        this.#deliver(event.message);
        break;
      case 'client':
        if (this.#phase !== 'faults') break;
        this.#workload.act();
        this.#queue.push(this.#now + this.#drawClientDelay(), event);
        break;
      case 'fault':
        if (this.#phase !== 'faults') break;
        this.#faults.act();
        this.#queue.push(this.#now + this.#drawFaultDelay(), event);
        break;
      case 'restart':
        if (event.server.state === 'crashed' && event.server.incarnation === event.incarnation) {
          this.restart(event.server);
        }
        break;
      case 'stop':
        this.trace(`server ${event.server.id} stops for good (removed)`);
        event.server.stop();
        break;
    }
    return event.kind;
  }

  #deliver(message: Message): void {
    const target = this.#servers.get(message.to);
    if (target === undefined || !target.running || this.network.isBlocked(message.from, message.to)) {
      this.network.countDropped();
      return;
    }
    this.network.countDelivered();
    if (this.#config.trace !== undefined) this.trace(`deliver ${describeMessage(message)}`);
    target.node.step(message);
    this.settle(target);
  }

  #drawClientDelay(): number {
    const [min, max] = this.#plan.clientEveryUnits;
    return this.#schedule.between(min, max);
  }

  #drawFaultDelay(): number {
    const [min, max] = this.#plan.faultEveryTicks;
    return this.#schedule.between(min, max) * TICK;
  }

  // ---------------------------------------------------------------- liveness

  /** After the faults end, a leader must emerge and every member must apply every acknowledged write. */
  #awaitLiveness(): void {
    const deadline = this.#now + this.#livenessBoundTicks() * TICK;
    while (this.#now <= deadline) {
      if (this.#runNext() === 'tick' && this.#livenessReached()) {
        this.trace(`liveness reached: every member applied ${this.#workload.maxAcknowledgedIndex}`);
        return;
      }
    }
    const leader = this.leader();
    throw new Violation(
      'liveness',
      `the cluster did not recover within ${this.#livenessBound} ticks after the faults ended`,
      {
        leader: leader?.id ?? null,
        term: leader?.status().term ?? null,
        maxAcknowledgedIndex: this.#workload.maxAcknowledgedIndex,
        servers: [...this.#servers.values()].map((server) => ({
          id: server.id,
          state: server.state,
          applied: server.app.index,
          ...(server.running ? pick(server.status()) : {}),
        })),
      },
    );
  }

  /**
   * Ticks allowed for recovery: a number of election timeouts, plus one round trip for each entry
   * that the most lagging server may still need, plus two whole snapshot transfers. With one
   * entry per append and one append in flight (options that the plan may draw), a follower gains
   * one entry per round trip, and an InstallSnapshot moves one chunk per round trip.
   */
  #livenessBoundTicks(): number {
    const alive = [...this.#servers.values()].filter((server) => server.state !== 'stopped');
    const lastIndex = Math.max(...this.runningServers().map((server) => server.status().lastIndex));
    const lowest = Math.min(...alive.map((server) => server.app.index));
    const backlog = Math.max(0, lastIndex - lowest);
    const options = this.#plan.raftOptions;
    const roundTripTicks =
      Math.ceil((2 * this.#plan.timing.maxLatency) / TICK) + (options.heartbeatTicks ?? 1);
    const snapshotChunks = Math.ceil(MAX_SNAPSHOT_BYTES / (options.snapshotChunkBytes ?? MAX_SNAPSHOT_BYTES));
    this.#livenessBound = this.#plan.livenessTicks + (backlog + 2 * snapshotChunks) * roundTripTicks;
    return this.#livenessBound;
  }

  #livenessReached(): boolean {
    const leader = this.leader();
    if (leader === null) return false;
    const { voters, learners } = leader.status().membership;
    if (!voters.includes(leader.id)) return false;
    const target = this.#workload.maxAcknowledgedIndex;
    for (const id of [...voters, ...learners]) {
      const server = this.#servers.get(id);
      if (server === undefined || !server.running || server.app.index < target) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- ServerEnv

  send(from: SimServer, message: Message): void {
    if (this.#config.trace !== undefined) this.trace(`send ${describeMessage(message)}`);
    const target = this.#servers.get(message.to);
    const reachable = target?.running === true && !this.network.isBlocked(message.from, message.to);
    // The simulated transport notices a refused or broken connection for about half of such messages.
    if (!reachable && this.#schedule.chance(0.5)) this.#unreachable.push([from, message.to]);
    this.network.send(message, this.#now);
  }

  applied(server: SimServer, entry: Entry): void {
    this.#workload.applied(server, entry);
    if (entry.kind === 'config') {
      for (const id of entry.membership.removed) this.#removalApplied(id);
    }
  }

  crashed(server: SimServer, point: CrashPoint | 'now'): void {
    const downTicks = this.#faults.crashed();
    this.trace(
      `server ${server.id} crashes (${point})${downTicks === null ? '' : `, restarts in ${downTicks} ticks`}`,
    );
    if (downTicks !== null && this.#phase === 'faults') {
      this.#queue.push(this.#now + downTicks * TICK, {
        kind: 'restart',
        server,
        incarnation: server.incarnation,
      });
    }
  }

  trace(text: string): void {
    this.#config.trace?.(`${(this.#now / TICK).toFixed(2).padStart(8)} #${this.#step} ${text}`);
  }

  #removalApplied(id: NodeId): void {
    if (this.#removed.has(id)) return;
    this.#removed.add(id);
    const server = this.#servers.get(id);
    if (server === undefined) return;
    if (server.running) {
      // A removed server keeps running for a while, so that its disruption (campaigns with a
      // higher term) is tested, then stops.
      const ticks = this.#schedule.between(2, 6) * this.#plan.electionTicks;
      this.#queue.push(this.#now + ticks * TICK, { kind: 'stop', server });
    } else {
      server.stop();
    }
  }

  // ---------------------------------------------------------------- WorkloadWorld and FaultWorld

  runningServers(): SimServer[] {
    return [...this.#servers.values()].filter((server) => server.running);
  }

  crashedServers(): SimServer[] {
    return [...this.#servers.values()].filter(
      (server) => server.state === 'crashed' && !this.#removed.has(server.id),
    );
  }

  server(id: NodeId): SimServer | undefined {
    return this.#servers.get(id);
  }

  leader(): SimServer | null {
    let best: SimServer | null = null;
    let bestTerm = -1;
    for (const server of this.#servers.values()) {
      if (!server.running) continue;
      const status = server.status();
      if (status.role === 'leader' && status.term > bestTerm) {
        best = server;
        bestTerm = status.term;
      }
    }
    return best;
  }

  addServer(): SimServer {
    const id = this.#nextId++;
    this.trace(`server ${id} created with an empty log`);
    return this.#createServer(id, emptyState());
  }

  retireServer(server: SimServer): void {
    this.trace(`server ${server.id} retired (its addition was rejected)`);
    server.stop();
  }

  restart(server: SimServer): void {
    if (this.#removed.has(server.id)) {
      server.stop();
      return;
    }
    this.#restarts++;
    this.#startServer(server);
  }

  /** Runs the driver loop of `server` to completion, then checks what it reports. */
  settle(server: SimServer): void {
    server.drain();
    for (const [from, to] of this.#unreachable.splice(0)) {
      if (from.running) from.node.reportUnreachable(to);
    }
    if (server.running) this.checker.observe(server, server.status());
  }

  readRequested(server: SimServer, requestId: number): void {
    this.checker.readRequested(server, requestId);
  }

  // ---------------------------------------------------------------- results

  #report(error: unknown): ViolationReport {
    const base = { step: this.#step, time: this.#now / TICK };
    if (error instanceof Violation) {
      return { ...base, invariant: error.invariant, message: error.message, details: error.details };
    }
    const thrown = error instanceof Error ? error : new Error(String(error));
    return {
      ...base,
      invariant: 'exception',
      message: `${thrown.name}: ${thrown.message}`,
      details: {
        stack:
          thrown.stack
            ?.split('\n')
            .slice(1, 8)
            .map((line) => line.trim()) ?? [],
      },
    };
  }

  #stats(): SimStats {
    const network = this.network.stats;
    const workload = this.#workload.stats;
    return {
      steps: this.#step,
      ticks: Math.floor(this.#now / TICK),
      elections: this.checker.elections,
      commits: this.checker.clusterCommit,
      messages: network.sent,
      dropped: network.dropped,
      duplicated: network.duplicated,
      delayed: network.delayed,
      partitions: this.#faults.stats.partitions,
      crashes: this.#faults.stats.crashes,
      restarts: this.#restarts,
      proposals: workload.proposals,
      acknowledged: workload.acknowledged,
      reads: workload.reads,
      readsServed: this.checker.readsServed,
      membershipChanges: workload.membershipChanges,
      transfers: workload.transfers,
      snapshotsInstalled: this.checker.snapshotsInstalled,
    };
  }
}

function pick(status: ReturnType<SimServer['status']>): Record<string, unknown> {
  return {
    role: status.role,
    term: status.term,
    commit: status.commit,
    lastIndex: status.lastIndex,
    leaderId: status.leaderId,
    voters: status.membership.voters,
    learners: status.membership.learners,
  };
}
