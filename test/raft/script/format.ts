import type { Message } from '../../../src/raft/messages.js';
import type { Entry, Membership, Snapshot, SnapshotMeta } from '../../../src/raft/types.js';

/**
 * One-line text forms of entries, messages and snapshots for transcripts. Command payloads are
 * UTF-8 strings in scenarios, so they print as text.
 */

const decoder = new TextDecoder();

export function formatMembership(membership: Membership): string {
  const parts = [`v=${membership.voters.join(',')}`];
  if (membership.learners.length > 0) parts.push(`l=${membership.learners.join(',')}`);
  if (membership.removed.length > 0) parts.push(`r=${membership.removed.join(',')}`);
  return parts.join(' ');
}

export function formatEntry(entry: Entry): string {
  const position = `${entry.index}/${entry.term}`;
  switch (entry.kind) {
    case 'noop':
      return `${position} noop`;
    case 'command':
      return `${position} cmd(${decoder.decode(entry.data)})`;
    case 'config':
      return `${position} config(${formatMembership(entry.membership)})`;
  }
}

export function formatEntries(entries: readonly Entry[]): string {
  return `[${entries.map(formatEntry).join(', ')}]`;
}

export function formatSnapshotMeta(meta: SnapshotMeta): string {
  return `(index=${meta.index} term=${meta.term} ${formatMembership(meta.membership)})`;
}

export function formatSnapshot(snapshot: Snapshot): string {
  return `${formatSnapshotMeta(snapshot.meta)} data=${JSON.stringify(decoder.decode(snapshot.data))}`;
}

/**
 * Returns the name a transcript uses for a message type. PreVote requests and responses get their
 * own names because the scripts filter on them separately from real votes.
 */
export function messageKind(message: Message): string {
  if (message.type === 'vote-request' && message.preVote) return 'pre-vote-request';
  if (message.type === 'vote-response' && message.preVote) return 'pre-vote-response';
  return message.type;
}

export function formatMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${messageKind(message)} term=${message.term}`;
  switch (message.type) {
    case 'vote-request':
      return `${head} last=(${message.lastLogIndex},${message.lastLogTerm})${message.transfer ? ' transfer' : ''}`;
    case 'vote-response':
      return `${head} ${message.granted ? 'granted' : 'rejected'}`;
    case 'append-request':
      return `${head} prev=(${message.prevIndex},${message.prevTerm}) entries=${formatEntries(message.entries)} commit=${message.commit}`;
    case 'append-response':
      return message.success
        ? `${head} ok index=${message.index}`
        : `${head} reject index=${message.index} hint=(${message.hintIndex},${message.hintTerm})`;
    case 'heartbeat-request':
      return `${head} commit=${message.commit}${message.readRound > 0 ? ` read-round=${message.readRound}` : ''}`;
    case 'heartbeat-response':
      return `${head}${message.readRound > 0 ? ` read-round=${message.readRound}` : ''}`;
    case 'snapshot-request':
      return `${head} snap=(${message.meta.index},${message.meta.term}) offset=${message.offset} bytes=${message.data.length}${message.done ? ' done' : ''}`;
    case 'snapshot-response':
      return `${head} snap-index=${message.snapshotIndex} next-offset=${message.nextOffset}${message.installed ? ' installed' : ''} last=${message.lastIndex}`;
    case 'timeout-now':
      return head;
    case 'read-index-request':
      return `${head} req=${message.requestId}`;
    case 'read-index-response':
      return `${head} req=${message.requestId} index=${message.index}`;
  }
}
