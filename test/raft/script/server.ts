import { RaftNode, type RaftOptions, type Ready } from '../../../src/raft/raft.js';
import type { DurableState, Entry, NodeId, ReadState, Snapshot } from '../../../src/raft/types.js';
import { applyBatch } from '../support/memory-cluster.js';

export type ServerOptions = Omit<RaftOptions, 'id' | 'random'>;

/** One applied command of the scripted state machine. */
export interface AppliedCommand {
  readonly index: number;
  readonly data: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes the scripted state machine as `index:data` pairs joined by commas. A snapshot's size
 * then grows with the commands it covers, which the chunking scenarios rely on.
 */
export function encodeAppState(commands: readonly AppliedCommand[]): Uint8Array {
  return encoder.encode(commands.map((command) => `${command.index}:${command.data}`).join(','));
}

export function decodeAppState(data: Uint8Array): AppliedCommand[] {
  const text = decoder.decode(data);
  if (text === '') return [];
  return text.split(',').map((pair) => {
    const colon = pair.indexOf(':');
    return { index: Number(pair.slice(0, colon)), data: pair.slice(colon + 1) };
  });
}

/**
 * One scripted server: the consensus core, what its storage holds, its state machine, and the
 * ready batch it is working on. A crashed server has no core; its durable state survives.
 *
 * A ready batch goes through three steps that scripts can run one at a time: it is taken
 * (`ready`), made durable (`persist`, which also releases its messages), and acknowledged
 * (`advance`, after the committed entries are applied).
 */
export class ScriptServer {
  readonly id: NodeId;
  options: ServerOptions;
  node: RaftNode | null;
  durable: DurableState;
  /** Ready batch taken from the core and not yet acknowledged. */
  inflight: Ready | null = null;
  /** Whether `inflight` has been written to `durable`. */
  inflightPersisted = false;
  /** State machine: applied commands in order, and the last applied index. */
  app: AppliedCommand[] = [];
  appliedIndex = 0;
  readStates: ReadState[] = [];
  failedReads: number[] = [];
  /** Values that the injected random source returns next; the last one repeats. */
  #randomValues: number[] = [0];

  constructor(id: NodeId, options: ServerOptions, durable: DurableState) {
    this.id = id;
    this.options = options;
    this.durable = durable;
    this.node = this.#build();
  }

  get live(): RaftNode {
    if (this.node === null) throw new ScriptError(`node ${this.id} is down`);
    return this.node;
  }

  setRandom(values: number[]): void {
    this.#randomValues = values;
  }

  /** Loses everything that is not durable: the core, the batch in flight, volatile reads. */
  crash(): { lostBatch: boolean } {
    const lostBatch = this.inflight !== null && !this.inflightPersisted;
    this.node = null;
    this.inflight = null;
    this.inflightPersisted = false;
    this.readStates = [];
    this.failedReads = [];
    return { lostBatch };
  }

  /** Rebuilds the core from durable state, and the state machine from the durable snapshot. */
  restart(options: ServerOptions): void {
    if (this.node !== null) throw new ScriptError(`node ${this.id} is running; crash it first`);
    this.options = options;
    const snapshot = this.durable.snapshot;
    this.app = snapshot === null ? [] : decodeAppState(snapshot.data);
    this.appliedIndex = snapshot?.meta.index ?? 0;
    this.node = this.#build();
  }

  takeReady(): Ready {
    if (this.inflight !== null) {
      throw new ScriptError(
        `node ${this.id} already has a ready batch in flight; persist and advance it first`,
      );
    }
    const ready = this.live.ready();
    this.inflight = ready;
    this.inflightPersisted = false;
    return ready;
  }

  /** Writes the batch in flight to durable state and returns the messages it may now send. */
  persist(): { ready: Ready; before: DurableState } {
    const ready = this.inflight;
    if (ready === null) throw new ScriptError(`node ${this.id} has no ready batch in flight`);
    if (this.inflightPersisted) throw new ScriptError(`node ${this.id} already persisted its ready batch`);
    const before = this.durable;
    if (ready.persist !== null) this.durable = applyBatch(this.durable, ready.persist);
    this.inflightPersisted = true;
    return { ready, before };
  }

  /** Applies the batch's snapshot and committed entries, then acknowledges it to the core. */
  advance(): Ready {
    const ready = this.inflight;
    if (ready === null) throw new ScriptError(`node ${this.id} has no ready batch in flight`);
    if (!this.inflightPersisted) throw new ScriptError(`node ${this.id} must persist its ready batch first`);
    if (ready.snapshotToRestore !== null) this.#restore(ready.snapshotToRestore);
    for (const entry of ready.committedEntries) this.#apply(entry);
    this.readStates.push(...ready.readStates);
    this.failedReads.push(...ready.failedReads);
    this.inflight = null;
    this.inflightPersisted = false;
    this.live.advance(ready);
    return ready;
  }

  #restore(snapshot: Snapshot): void {
    this.app = decodeAppState(snapshot.data);
    this.appliedIndex = snapshot.meta.index;
  }

  #apply(entry: Entry): void {
    if (entry.index !== this.appliedIndex + 1) {
      throw new Error(
        `node ${this.id} was handed entry ${entry.index} to apply after applying ${this.appliedIndex}`,
      );
    }
    if (entry.kind === 'command') this.app.push({ index: entry.index, data: decoder.decode(entry.data) });
    this.appliedIndex = entry.index;
  }

  #build(): RaftNode {
    const random = (bound: number): number => {
      const value = this.#randomValues.length > 1 ? this.#randomValues.shift()! : this.#randomValues[0]!;
      if (value >= bound) {
        throw new ScriptError(
          `set-random value ${value} for node ${this.id} is not below the bound ${bound}`,
        );
      }
      return value;
    };
    return new RaftNode({ ...this.options, id: this.id, random }, this.durable);
  }
}

/** A mistake in a script (unknown command, bad argument, impossible step), not a Raft failure. */
export class ScriptError extends Error {
  override readonly name = 'ScriptError';
}

/** Highest index that a durable state covers, through its log or its snapshot. */
export function durableLastIndex(state: DurableState): number {
  return state.entries.at(-1)?.index ?? state.snapshot?.meta.index ?? 0;
}

/** Returns the term of the durable entry at `index`, or undefined when storage has none there. */
export function durableTerm(state: DurableState, index: number): number | undefined {
  const entry = state.entries.find((candidate) => candidate.index === index);
  if (entry !== undefined) return entry.term;
  if (state.snapshot !== null && state.snapshot.meta.index === index) return state.snapshot.meta.term;
  return undefined;
}
