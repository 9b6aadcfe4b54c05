import { bootstrapState, emptyState } from '../../../src/raft/bootstrap.js';
import type { Message } from '../../../src/raft/messages.js';
import type { Ready } from '../../../src/raft/raft.js';
import type { DurableState, NodeId } from '../../../src/raft/types.js';
import {
  formatEntries,
  formatMembership,
  formatMessage,
  formatSnapshot,
  formatSnapshotMeta,
  messageKind,
} from './format.js';
import { Invariants } from './invariants.js';
import { durableLastIndex, ScriptError, ScriptServer, type ServerOptions } from './server.js';

/** Which queued messages a delivery, drop or duplication applies to. */
export interface MessageFilter {
  /** Recipients; empty means all. */
  readonly to: readonly NodeId[];
  /** Senders; empty means all. */
  readonly from: readonly NodeId[];
  /** Message kinds as transcripts print them; empty means all. */
  readonly kinds: readonly string[];
}

export const ALL_MESSAGES: MessageFilter = { to: [], from: [], kinds: [] };

/** The fields of a server that transcripts report when they change. */
interface NodeView {
  readonly role: string;
  readonly term: number;
  readonly vote: number;
  readonly leader: number;
  readonly commit: number;
  readonly transfer: number;
  readonly conf: string;
}

/**
 * The scripted cluster: servers, one message queue per recipient, and the network partition.
 * Every operation appends what it observed to `out`, the output of the current command.
 */
export class Cluster {
  readonly servers = new Map<NodeId, ScriptServer>();
  readonly invariants = new Invariants();
  /** Options that `add-nodes` set, inherited by servers added later. */
  defaults: ServerOptions = {};
  out: string[] = [];
  #inbox = new Map<NodeId, Message[]>();
  /** Group of each server while a partition is in force; servers in different groups cannot talk. */
  #groups: Map<NodeId, number> | null = null;

  get(id: NodeId): ScriptServer {
    const server = this.servers.get(id);
    if (server === undefined) throw new ScriptError(`no node ${id}`);
    return server;
  }

  ids(): NodeId[] {
    return [...this.servers.keys()].sort((a, b) => a - b);
  }

  addNodes(count: number, options: ServerOptions): void {
    if (this.servers.size > 0)
      throw new ScriptError('add-nodes may run once, before any other node is added');
    this.defaults = options;
    const voters = Array.from({ length: count }, (_, k) => k + 1);
    const state = bootstrapState(voters);
    for (const id of voters) this.#addServer(id, options, state);
  }

  addLearnerNode(id: NodeId, options: ServerOptions): void {
    if (this.servers.has(id)) throw new ScriptError(`node ${id} already exists`);
    this.#addServer(id, { ...this.defaults, ...options }, emptyState());
  }

  #addServer(id: NodeId, options: ServerOptions, state: DurableState): void {
    this.servers.set(id, new ScriptServer(id, options, state));
    this.#inbox.set(id, []);
    this.out.push(`~ ${id} ${describe(view(this.get(id)))}`);
  }

  /** Runs `action` on a live server and reports the fields it changed. */
  touch<T>(id: NodeId, action: (server: ScriptServer) => T): T {
    const server = this.get(id);
    const before = view(server);
    const result = action(server);
    this.reportChange(server, before);
    return result;
  }

  reportChange(server: ScriptServer, before: NodeView | null): void {
    const after = view(server);
    const changed = diff(before, after);
    if (changed !== '') this.out.push(`~ ${server.id} ${changed}`);
  }

  tick(id: NodeId, ticks: number): void {
    const server = this.get(id);
    for (let k = 0; k < ticks; k++) this.touch(id, () => server.live.tick());
  }

  // ------------------------------------------------------------------ ready batches

  /** Takes, persists and advances one ready batch. Returns false when the server had none. */
  processReady(id: NodeId): boolean {
    const server = this.get(id);
    if (server.inflight !== null || !server.live.hasReady()) return false;
    this.out.push(`> ${id} ready`);
    this.takeReady(id, false);
    this.persist(id, false);
    this.advance(id, false);
    return true;
  }

  takeReady(id: NodeId, announce = true): void {
    const server = this.get(id);
    if (!server.live.hasReady()) {
      if (announce) this.out.push('no ready');
      return;
    }
    const ready = server.takeReady();
    const lines = describeReady(ready, server.durable);
    if (announce) {
      this.out.push(...lines, ...ready.messages.map((message) => `  held ${formatMessage(message)}`));
    } else {
      this.out.push(...lines);
    }
  }

  persist(id: NodeId, announce = true): void {
    const server = this.get(id);
    const { ready, before } = server.persist();
    this.invariants.beforeSend(server, ready.messages, this.servers);
    this.invariants.beforeApply(server, ready.committedEntries, before);
    for (const message of ready.messages) {
      this.out.push(`  send ${formatMessage(message)}`);
      this.#inbox.get(message.to)?.push(message);
      if (!this.#inbox.has(message.to)) this.out.push(`    dropped: no node ${message.to}`);
    }
    if (announce && ready.messages.length === 0) this.out.push('  persisted');
  }

  advance(id: NodeId, announce = true): void {
    const server = this.get(id);
    const before = view(server);
    const printed = this.out.length;
    const ready = server.advance();
    if (ready.snapshotToRestore !== null) {
      this.out.push(`  restore ${formatSnapshotMeta(ready.snapshotToRestore.meta)}`);
    }
    if (ready.committedEntries.length > 0) this.out.push(`  apply ${formatEntries(ready.committedEntries)}`);
    for (const read of ready.readStates)
      this.out.push(`  read-state req=${read.requestId} index=${read.index}`);
    for (const requestId of ready.failedReads) this.out.push(`  failed-read req=${requestId}`);
    if (announce && this.out.length === printed) this.out.push('  advanced');
    this.reportChange(server, before);
  }

  // ------------------------------------------------------------------ messages

  queued(filter: MessageFilter): Message[] {
    const out: Message[] = [];
    for (const id of this.ids()) {
      if (filter.to.length > 0 && !filter.to.includes(id)) continue;
      out.push(...(this.#inbox.get(id) ?? []).filter((message) => matches(message, filter)));
    }
    return out;
  }

  /** Steps every queued message that passes `filter` into its recipient, except those to `drop`. */
  deliver(filter: MessageFilter, drop: readonly NodeId[]): number {
    let handled = 0;
    for (const id of this.ids()) {
      if (filter.to.length > 0 && !filter.to.includes(id)) continue;
      const inbox = this.#inbox.get(id)!;
      const selected = inbox.filter((message) => matches(message, filter));
      if (selected.length === 0) continue;
      this.#inbox.set(
        id,
        inbox.filter((message) => !selected.includes(message)),
      );
      this.out.push(`> ${id} receive`);
      for (const message of selected) {
        handled++;
        this.#deliverOne(message, drop);
      }
    }
    return handled;
  }

  #deliverOne(message: Message, drop: readonly NodeId[]): void {
    const line = `  ${formatMessage(message)}`;
    const recipient = this.get(message.to);
    if (drop.includes(message.to)) {
      this.out.push(`${line} (dropped)`);
    } else if (this.#partitioned(message.from, message.to)) {
      this.out.push(`${line} (dropped: partition)`);
    } else if (recipient.node === null) {
      this.out.push(`${line} (dropped: ${message.to} is down)`);
    } else {
      this.out.push(line);
      const before = view(recipient);
      recipient.node.step(message);
      const changed = diff(before, view(recipient));
      if (changed !== '') this.out.push(`    ~ ${recipient.id} ${changed}`);
    }
  }

  dropMessages(filter: MessageFilter): void {
    for (const id of this.ids()) {
      if (filter.to.length > 0 && !filter.to.includes(id)) continue;
      const inbox = this.#inbox.get(id)!;
      for (const message of inbox) {
        if (matches(message, filter)) this.out.push(`dropped ${formatMessage(message)}`);
      }
      this.#inbox.set(
        id,
        inbox.filter((message) => !matches(message, filter)),
      );
    }
  }

  /** Queues a copy of each matching message behind everything queued, as a late retransmission. */
  duplicateMessages(filter: MessageFilter): void {
    for (const id of this.ids()) {
      if (filter.to.length > 0 && !filter.to.includes(id)) continue;
      const inbox = this.#inbox.get(id)!;
      const copies = inbox.filter((message) => matches(message, filter));
      for (const message of copies) this.out.push(`duplicated ${formatMessage(message)}`);
      inbox.push(...copies);
    }
  }

  /** Reverses the queue of messages to `id`, so later messages arrive first. */
  reorderMessages(id: NodeId): void {
    const inbox = [...(this.#inbox.get(id) ?? [])].reverse();
    this.#inbox.set(id, inbox);
    for (const message of inbox) this.out.push(formatMessage(message));
  }

  /** Processes ready batches and delivers messages among `ids` until none is left. */
  stabilize(ids: readonly NodeId[]): void {
    const members = ids.length > 0 ? ids : this.ids();
    for (let round = 0; round < 1000; round++) {
      let busy = false;
      for (const id of members) {
        const server = this.get(id);
        if (server.node !== null && this.processReady(id)) busy = true;
      }
      if (this.deliver({ ...ALL_MESSAGES, to: members }, []) > 0) busy = true;
      if (!busy) return;
    }
    throw new ScriptError('stabilize did not settle within 1000 rounds');
  }

  // ------------------------------------------------------------------ faults

  partition(groups: readonly (readonly NodeId[])[]): void {
    const map = new Map<NodeId, number>();
    groups.forEach((group, k) => {
      for (const id of group) map.set(id, k);
    });
    // Servers named in no group are each cut off on their own.
    let next = groups.length;
    for (const id of this.ids()) if (!map.has(id)) map.set(id, next++);
    this.#groups = map;
  }

  heal(): void {
    this.#groups = null;
  }

  #partitioned(a: NodeId, b: NodeId): boolean {
    return this.#groups !== null && this.#groups.get(a) !== this.#groups.get(b);
  }

  crash(id: NodeId): void {
    const server = this.get(id);
    if (server.node === null) throw new ScriptError(`node ${id} is already down`);
    const { lostBatch } = server.crash();
    this.out.push(`~ ${id} down`);
    if (lostBatch) this.out.push('  lost the ready batch that was not persisted');
    for (const [recipient, inbox] of this.#inbox) {
      for (const message of inbox) {
        if (message.from === id || message.to === id) this.out.push(`  dropped ${formatMessage(message)}`);
      }
      this.#inbox.set(
        recipient,
        inbox.filter((message) => message.from !== id && message.to !== id),
      );
    }
  }

  restart(id: NodeId, options: ServerOptions): void {
    const server = this.get(id);
    server.restart({ ...server.options, ...options });
    this.invariants.forgetCommit(id);
    const durable = server.durable;
    const last = durableLastIndex(durable);
    this.out.push(`~ ${id} up ${describe(view(server))} last=${last} applied=${server.appliedIndex}`);
  }
}

function matches(message: Message, filter: MessageFilter): boolean {
  if (filter.from.length > 0 && !filter.from.includes(message.from)) return false;
  if (filter.kinds.length > 0 && !filter.kinds.includes(messageKind(message))) return false;
  return true;
}

function view(server: ScriptServer): NodeView {
  if (server.node === null) throw new ScriptError(`node ${server.id} is down`);
  const status = server.node.status();
  return {
    role: status.role,
    term: status.term,
    vote: status.vote,
    leader: status.leaderId,
    commit: status.commit,
    transfer: status.transferTarget,
    conf: `(${formatMembership(status.membership)})`,
  };
}

function describe(state: NodeView): string {
  return Object.entries(state)
    .map(([field, value]) => `${field}=${value}`)
    .join(' ');
}

function diff(before: NodeView | null, after: NodeView): string {
  if (before === null) return describe(after);
  return Object.entries(after)
    .filter(([field, value]) => before[field as keyof NodeView] !== value)
    .map(([field, value]) => `${field}=${value}`)
    .join(' ');
}

/** Formats the soft state and the persistence part of a ready batch as transcript lines. */
function describeReady(ready: Ready, durable: DurableState): string[] {
  const lines: string[] = [];
  if (ready.softState !== null) {
    lines.push(`  soft-state role=${ready.softState.role} leader=${ready.softState.leaderId}`);
  }
  const persist = ready.persist;
  if (persist !== null) {
    if (persist.hardState !== null) {
      const { term, vote, commit } = persist.hardState;
      lines.push(`  hard-state term=${term} vote=${vote} commit=${commit}`);
    }
    if (persist.snapshot !== null) lines.push(`  snapshot ${formatSnapshot(persist.snapshot)}`);
    // Every batch with entries starts its write there; only a cut into stored entries is news.
    const truncateFrom = persist.truncateFrom;
    if (truncateFrom !== null && durable.entries.some((entry) => entry.index >= truncateFrom)) {
      lines.push(`  truncate-from=${truncateFrom}`);
    }
    if (persist.compactTo !== null) lines.push(`  compact-to=${persist.compactTo}`);
    if (persist.entries.length > 0) lines.push(`  entries ${formatEntries(persist.entries)}`);
  }
  return lines;
}
