import { bootstrapState, emptyState } from '../../../src/raft/bootstrap.js';
import type { Message } from '../../../src/raft/messages.js';
import { RaftNode, type RaftOptions, type Ready } from '../../../src/raft/raft.js';
import type {
  DurableState,
  Entry,
  NodeId,
  PersistBatch,
  ReadState,
  Snapshot,
} from '../../../src/raft/types.js';

/** Applies a persist batch to an in-memory durable state, with the storage semantics of PersistBatch. */
export function applyBatch(state: DurableState, batch: PersistBatch): DurableState {
  let snapshot = state.snapshot;
  let entries = [...state.entries];
  if (batch.snapshot !== null) snapshot = batch.snapshot;
  if (batch.truncateFrom !== null) entries = entries.filter((entry) => entry.index < batch.truncateFrom!);
  if (batch.compactTo !== null) entries = entries.filter((entry) => entry.index > batch.compactTo!);
  entries.push(...batch.entries);
  return { hardState: batch.hardState ?? state.hardState, snapshot, entries };
}

/** One simulated server: the core, its durable state and its applied commands. */
export class MemoryServer {
  node: RaftNode;
  durable: DurableState;
  applied: Entry[] = [];
  restoredFrom: Snapshot | null = null;
  readStates: ReadState[] = [];
  failedReads: number[] = [];

  constructor(
    readonly id: NodeId,
    readonly options: Omit<RaftOptions, 'id'>,
    durable: DurableState,
  ) {
    this.durable = durable;
    this.node = new RaftNode({ ...options, id }, durable);
  }

  /** Rebuilds the core from durable state only, as after a crash. */
  restart(): void {
    this.node = new RaftNode({ ...this.options, id: this.id }, this.durable);
    this.applied = [];
  }

  /** Runs ready batches until none is left; returns the messages to deliver. */
  drain(): Message[] {
    const out: Message[] = this.node.takeImmediateMessages();
    while (this.node.hasReady()) out.push(...this.carryOut(this.node.ready()));
    return out;
  }

  /** Persists, restores, applies and advances one ready batch; returns its messages to deliver. */
  carryOut(ready: Ready): Message[] {
    if (ready.persist !== null) this.persist(ready.persist);
    if (ready.snapshotToRestore !== null) {
      this.restoredFrom = ready.snapshotToRestore;
      this.applied = [];
    }
    this.applied.push(...ready.committedEntries);
    this.readStates.push(...ready.readStates);
    this.failedReads.push(...ready.failedReads);
    this.node.advance(ready);
    return [...ready.messages];
  }

  /** Makes a batch durable; subclasses add checks of a real storage. */
  persist(batch: PersistBatch): void {
    this.durable = applyBatch(this.durable, batch);
  }
}

/** A lossless in-memory cluster for scripted tests, with optional message filters. */
export class MemoryCluster {
  readonly servers = new Map<NodeId, MemoryServer>();
  queue: Message[] = [];
  /** Returns false to drop a message. */
  filter: (message: Message) => boolean = () => true;

  constructor(ids: NodeId[], options: Partial<Omit<RaftOptions, 'id' | 'random'>> = {}) {
    const state = bootstrapState(ids);
    for (const id of ids) {
      this.servers.set(id, new MemoryServer(id, { random: () => 0, ...options }, state));
    }
  }

  add(id: NodeId, options: Partial<Omit<RaftOptions, 'id' | 'random'>> = {}): MemoryServer {
    const server = new MemoryServer(id, { random: () => 0, ...options }, emptyState());
    this.servers.set(id, server);
    return server;
  }

  get(id: NodeId): MemoryServer {
    const server = this.servers.get(id);
    if (server === undefined) throw new Error(`no server ${id}`);
    return server;
  }

  /** Collects every server's ready output and delivers messages until the cluster is quiet. */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      for (const server of this.servers.values()) this.queue.push(...server.drain());
      if (this.queue.length === 0) return;
      const batch = this.queue;
      this.queue = [];
      for (const message of batch) {
        if (!this.filter(message)) continue;
        this.servers.get(message.to)?.node.step(message);
      }
    }
    throw new Error(`cluster did not stabilize within ${maxRounds} rounds`);
  }

  tickAll(ticks = 1): void {
    for (let i = 0; i < ticks; i++) {
      for (const server of this.servers.values()) server.node.tick();
      this.stabilize();
    }
  }

  leaders(): NodeId[] {
    return [...this.servers.values()]
      .filter((server) => server.node.status().role === 'leader')
      .map((server) => server.id);
  }
}
