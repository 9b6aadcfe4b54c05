import type { Message } from '../../src/raft/messages.js';
import { RaftNode, type RaftOptions, type RaftStatus, type Ready } from '../../src/raft/raft.js';
import { MemoryStorage } from '../../src/raft/storage/memory.js';
import type { DurableState, Entry, NodeId, PersistBatch } from '../../src/raft/types.js';
import { AppState } from './app.js';
import type { CheckedServer, InvariantChecker } from './checker.js';
import { DurableLog, InvalidPersistBatchError } from './durable-log.js';
import type { Prng } from './prng.js';
import { Violation } from './violation.js';

/**
 * Where an armed crash lands in the driver loop. Each point is taken only when it makes a
 * difference: `after-persist` needs a batch that persisted something and has messages to send,
 * `after-vote` a batch that sent a vote (for itself or for another candidate).
 */
export type CrashPoint = 'before-persist' | 'after-persist' | 'mid-send' | 'after-vote' | 'before-apply';

export const CRASH_POINTS: readonly CrashPoint[] = [
  'before-persist',
  'after-persist',
  'mid-send',
  'after-vote',
  'before-apply',
];

export type ServerState = 'running' | 'crashed' | 'stopped';

/** What a server needs from the simulation around it. */
export interface ServerEnv {
  readonly checker: InvariantChecker;
  readonly raftOptions: Omit<RaftOptions, 'id' | 'random'>;
  /** Applied entries between two application snapshots (`compact`). */
  readonly compactEvery: number;
  /** Send the core's immediate messages (a leader's appends and heartbeats) before persisting. */
  readonly sendsImmediately: boolean;
  send(from: SimServer, message: Message): void;
  /** Called after `server` applied `entry` to its state machine. */
  applied(server: SimServer, entry: Entry): void;
  crashed(server: SimServer, point: CrashPoint | 'now'): void;
  trace(text: string): void;
}

/**
 * One simulated server: a RaftNode, its MemoryStorage, its state machine, and the driver loop
 * that persists, sends, restores and applies each ready batch in that order. A crash drops the
 * node and the state machine, and a restart rebuilds both from the MemoryStorage alone.
 */
export class SimServer implements CheckedServer {
  readonly id: NodeId;
  readonly #env: ServerEnv;
  readonly #random: Prng;
  readonly #storage = new MemoryStorage();
  readonly durable: DurableLog;
  #node: RaftNode | null = null;
  #state: ServerState = 'crashed';
  #incarnation = 0;
  app = new AppState();
  /** Crash armed by the fault injector, taken at the next matching point of the driver loop. */
  pendingCrash: CrashPoint | null = null;

  constructor(id: NodeId, initial: DurableState, random: Prng, env: ServerEnv) {
    this.id = id;
    this.#env = env;
    this.#random = random;
    this.durable = new DurableLog(initial);
    this.#storage.saveSync({
      snapshot: initial.snapshot,
      truncateFrom: null,
      compactTo: null,
      entries: initial.entries,
      hardState: initial.hardState,
    });
  }

  get state(): ServerState {
    return this.#state;
  }

  get running(): boolean {
    return this.#state === 'running';
  }

  get incarnation(): number {
    return this.#incarnation;
  }

  /** The running core. Throws when the server is down. */
  get node(): RaftNode {
    if (this.#node === null) throw new Error(`server ${this.id} is not running`);
    return this.#node;
  }

  /** Starts the server from what its storage holds, as a process would after a crash. */
  start(): void {
    if (this.#state === 'running') throw new Error(`server ${this.id} is already running`);
    if (this.#state === 'stopped') throw new Error(`server ${this.id} was stopped for good`);
    const durable = this.#storage.loadSync();
    this.#compareWithDurableLog(durable);
    this.#incarnation++;
    this.#state = 'running';
    this.pendingCrash = null;
    const random = this.#random;
    this.#node = new RaftNode(
      { ...this.#env.raftOptions, id: this.id, random: (bound) => random.int(bound) },
      durable,
    );
    this.app =
      durable.snapshot === null
        ? new AppState()
        : this.#env.checker.checkRestore(this, durable.snapshot, 'restart');
    this.#env.checker.observeRestart(this, this.#node.status());
    this.#env.trace(
      `server ${this.id} starts (incarnation ${this.#incarnation}, term ${durable.hardState.term}, commit ${durable.hardState.commit}, snapshot ${durable.snapshot?.meta.index ?? 0})`,
    );
  }

  /** Loses everything that is not durable: the core, the state machine, unsent messages. */
  crash(point: CrashPoint | 'now' = 'now'): void {
    if (this.#state !== 'running') return;
    this.#node = null;
    this.#state = 'crashed';
    this.pendingCrash = null;
    this.#env.crashed(this, point);
  }

  /** Takes the server down for good (it was removed from the cluster). */
  stop(): void {
    this.#node = null;
    this.#state = 'stopped';
    this.pendingCrash = null;
  }

  status(): RaftStatus {
    return this.node.status();
  }

  /**
   * Runs the driver loop until the core has nothing left to do, then takes an application
   * snapshot when enough entries were applied. Stops early when an armed crash lands.
   */
  drain(): void {
    const node = this.#node;
    if (node === null) return;
    for (;;) {
      if (this.#env.sendsImmediately) {
        for (const message of node.takeImmediateMessages()) {
          this.#env.checker.beforeSend(this, message);
          this.#env.send(this, message);
        }
      }
      while (node.hasReady()) {
        if (!this.#handleReady(node, node.ready())) return;
      }
      const snapshotIndex = node.status().snapshotIndex;
      if (this.app.index - snapshotIndex < this.#env.compactEvery) return;
      this.#env.trace(`server ${this.id} compacts at ${this.app.index}`);
      node.compact(this.app.index, this.app.encode());
    }
  }

  /** Carries out one ready batch. Returns false when the server crashed on the way. */
  #handleReady(node: RaftNode, ready: Ready): boolean {
    if (ready.softState !== null) {
      const { role, leaderId } = ready.softState;
      this.#env.trace(
        `server ${this.id} is ${role} in term ${node.status().term}, leader ${leaderId || 'unknown'}`,
      );
    }
    const persist = ready.persist;
    if (persist !== null && this.#crashesAt('before-persist')) return false;
    if (persist !== null) this.#persist(persist);
    if (persist !== null && ready.messages.length > 0 && this.#crashesAt('after-persist')) return false;

    const crashMidSend = this.pendingCrash === 'mid-send' && ready.messages.length >= 2;
    const sendCount = crashMidSend ? ready.messages.length >> 1 : ready.messages.length;
    for (let i = 0; i < sendCount; i++) {
      const message = ready.messages[i]!;
      this.#env.checker.beforeSend(this, message);
      this.#env.send(this, message);
    }
    if (crashMidSend) {
      this.crash('mid-send');
      return false;
    }
    if (this.pendingCrash === 'after-vote' && ready.messages.some(isVote) && this.#crashesAt('after-vote'))
      return false;

    const applies = ready.snapshotToRestore !== null || ready.committedEntries.length > 0;
    if (applies && this.#crashesAt('before-apply')) return false;
    if (ready.snapshotToRestore !== null) {
      this.app = this.#env.checker.checkRestore(this, ready.snapshotToRestore, 'install');
      this.#env.trace(`server ${this.id} restores snapshot ${ready.snapshotToRestore.meta.index}`);
    }
    for (const entry of ready.committedEntries) {
      this.#env.checker.checkApply(this, entry);
      this.app.apply(entry);
      this.#env.applied(this, entry);
    }
    for (const readState of ready.readStates) this.#env.checker.checkReadState(this, readState);
    node.advance(ready);
    return true;
  }

  #persist(batch: PersistBatch): void {
    const before = this.durable.hardState;
    try {
      this.#storage.saveSync(batch);
    } catch (error) {
      const cause = error instanceof Error ? error.cause : undefined;
      throw new Violation('storage', `server ${this.id} handed storage an invalid batch: ${String(error)}`, {
        server: this.id,
        rule: (cause as { rule?: string } | undefined)?.rule ?? null,
        batch: describeBatch(batch),
      });
    }
    try {
      this.durable.saveSync(batch);
    } catch (error) {
      if (!(error instanceof InvalidPersistBatchError)) throw error;
      throw new Violation('storage', `server ${this.id}: ${error.message}`, {
        server: this.id,
        batch: describeBatch(batch),
      });
    }
    this.#env.checker.afterPersist(this, batch, before);
  }

  #crashesAt(point: CrashPoint): boolean {
    if (this.pendingCrash !== point) return false;
    this.crash(point);
    return true;
  }

  /** MemoryStorage must give back exactly what the batches made durable. */
  #compareWithDurableLog(loaded: DurableState): void {
    const expected = this.durable.durableState();
    const same =
      sameJson(loaded.hardState, expected.hardState) &&
      (loaded.snapshot?.meta.index ?? 0) === (expected.snapshot?.meta.index ?? 0) &&
      (loaded.snapshot?.meta.term ?? 0) === (expected.snapshot?.meta.term ?? 0) &&
      loaded.entries.length === expected.entries.length &&
      loaded.entries.every(
        (entry, i) => entry.index === expected.entries[i]!.index && entry.term === expected.entries[i]!.term,
      );
    if (!same) {
      throw new Violation(
        'storage',
        `server ${this.id} loaded a durable state that differs from what it persisted`,
        {
          server: this.id,
          loaded: describeDurable(loaded),
          expected: describeDurable(expected),
        },
      );
    }
  }
}

/** A vote request or a granted vote, not a PreVote: what a durable vote must back. */
function isVote(message: Message): boolean {
  if (message.type === 'vote-request') return !message.preVote;
  return message.type === 'vote-response' && !message.preVote && message.granted;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function describeDurable(state: DurableState): Record<string, unknown> {
  return {
    hardState: state.hardState,
    snapshot:
      state.snapshot === null ? null : { index: state.snapshot.meta.index, term: state.snapshot.meta.term },
    entries: state.entries.length === 0 ? [] : [state.entries[0]!.index, state.entries.at(-1)!.index],
  };
}

export function describeBatch(batch: PersistBatch): Record<string, unknown> {
  return {
    snapshot:
      batch.snapshot === null ? null : { index: batch.snapshot.meta.index, term: batch.snapshot.meta.term },
    truncateFrom: batch.truncateFrom,
    compactTo: batch.compactTo,
    entries: batch.entries.map((entry) => `${entry.index}@${entry.term}`),
    hardState: batch.hardState,
  };
}
