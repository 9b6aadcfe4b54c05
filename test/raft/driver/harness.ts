import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { bootstrapState } from '../../../src/raft/bootstrap.js';
import { RaftDriver, type StateMachine } from '../../../src/raft/driver.js';
import type { Message } from '../../../src/raft/messages.js';
import { LevelStorage } from '../../../src/raft/storage/level.js';
import type { CommandEntry, NodeId, PersistBatch, Snapshot } from '../../../src/raft/types.js';

/** A state machine that records the commands it applied, as text, and snapshots them as JSON. */
export class ListMachine implements StateMachine {
  items: string[] = [];
  index = 0;
  restores = 0;

  apply(entry: CommandEntry): unknown {
    this.items.push(new TextDecoder().decode(entry.data));
    this.index = entry.index;
    return { position: this.items.length };
  }

  advanceTo(index: number): void {
    this.index = index;
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ items: this.items, index: this.index }));
  }

  restore(snapshot: Snapshot): void {
    const parsed = JSON.parse(new TextDecoder().decode(snapshot.data)) as { items: string[]; index: number };
    this.items = parsed.items;
    this.index = parsed.index;
    this.restores++;
  }
}

interface Member {
  driver: RaftDriver;
  storage: LevelStorage;
  machine: ListMachine;
  saves: number;
  fatal: unknown;
  /** When set, every save waits for it before it writes, as a slow disk would. */
  saveGate: Promise<void> | null;
}

/**
 * Drivers on real LevelDB storage in one process. Messages between them are delivered
 * asynchronously through the event loop; the websocket transport is exercised by the agent tests.
 */
export class DriverCluster {
  readonly members = new Map<NodeId, Member>();
  /** Delivery filter: a message for which it returns false is dropped, as by a one-way partition. */
  allow: (message: Message) => boolean = () => true;
  root = '';

  constructor(
    readonly options: {
      tickMs?: number;
      snapshotThresholdEntries?: number;
      /** Randomness of each server's core and driver; crypto's randomInt by default. */
      random?: (id: NodeId) => (bound: number) => number;
    } = {},
  ) {}

  async init(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'signet-driver-'));
  }

  async start(id: NodeId, founders: NodeId[] | null): Promise<Member> {
    const storage = await LevelStorage.open(join(this.root, String(id)));
    let durable = await storage.load();
    const pristine =
      durable.hardState.term === 0 && durable.entries.length === 0 && durable.snapshot === null;
    if (pristine && founders !== null) {
      const state = bootstrapState(founders);
      await storage.save({
        snapshot: null,
        truncateFrom: null,
        compactTo: null,
        entries: state.entries,
        hardState: state.hardState,
      });
      durable = state;
    }
    const machine = new ListMachine();
    if (durable.snapshot !== null) machine.restore(durable.snapshot);
    const counted = {
      load: () => storage.load(),
      close: () => storage.close(),
      save: async (batch: PersistBatch) => {
        member.saves++;
        if (member.saveGate !== null) await member.saveGate;
        return storage.save(batch);
      },
    };
    const member: Member = {
      storage,
      machine,
      saves: 0,
      fatal: null,
      saveGate: null,
      driver: new RaftDriver({
        raft: { id, random: this.options.random?.(id) ?? ((bound) => randomInt(bound)) },
        storage: counted,
        durable,
        sender: { send: (message) => this.#deliver(message) },
        stateMachine: machine,
        tickMs: this.options.tickMs ?? 10,
        snapshotThresholdEntries: this.options.snapshotThresholdEntries ?? 1_000_000,
        snapshotThresholdBytes: 1024 * 1024 * 1024,
        logger: pino({ level: 'silent' }),
        onFatal: (error) => {
          member.fatal = error;
        },
      }),
    };
    this.members.set(id, member);
    member.driver.start();
    return member;
  }

  #deliver(message: Message): boolean {
    const target = this.members.get(message.to);
    if (target === undefined || !this.allow(message)) return false;
    setImmediate(() => target.driver.step(message));
    return true;
  }

  async stop(id: NodeId): Promise<void> {
    const member = this.members.get(id);
    if (member === undefined) return;
    this.members.delete(id);
    await member.driver.stop();
    await member.storage.close();
  }

  leader(): Member | undefined {
    return [...this.members.values()].find((member) => member.driver.status().role === 'leader');
  }

  async close(): Promise<void> {
    for (const id of [...this.members.keys()]) await this.stop(id);
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a value other than undefined or false, or fails after `ms`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  ms = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
