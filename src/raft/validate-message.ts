import type { Entry, Membership } from './types.js';

/**
 * Checks the shape of a decoded message before the core handles it: every field present with the
 * right type, indexes and terms non-negative integers, entries contiguous after prevIndex and no
 * newer than the message's term. Returns a description of the first problem, or null.
 * The core trusts messages that pass: a peer that sends garbage is dropped here, not crashed on.
 */
/**
 * Highest term a message may carry. Terms grow by one per election, so 2^52 is out of reach of
 * any real cluster, while a lie near 2^53 would push a server past exact integer arithmetic.
 */
export const MAX_TERM = 2 ** 52;

export function validateMessage(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'message is not an object';
  const message = value as Record<string, unknown>;
  for (const field of ['v', 'from', 'to', 'term'] as const) {
    if (!isCount(message[field]))
      return `field ${field}=${describe(message[field])} is not a non-negative integer`;
  }
  // Node id 0 means "none" inside the core (no vote, no leader), so no server may use it.
  if (message.from === 0 || message.to === 0) return 'fields from and to must be node ids above 0';
  if ((message.term as number) > MAX_TERM)
    return `field term=${message.term} is above the maximum term ${MAX_TERM}`;
  switch (message.type) {
    case 'vote-request':
      return (
        checkCounts(message, ['lastLogIndex', 'lastLogTerm']) ??
        checkBooleans(message, ['preVote', 'transfer'])
      );
    case 'vote-response':
      return checkBooleans(message, ['preVote', 'granted']);
    case 'append-request':
      return checkCounts(message, ['prevIndex', 'prevTerm', 'commit']) ?? checkEntries(message);
    case 'append-response':
      return checkCounts(message, ['index', 'hintIndex', 'hintTerm']) ?? checkBooleans(message, ['success']);
    case 'heartbeat-request':
      return checkCounts(message, ['commit', 'readRound']);
    case 'heartbeat-response':
      return checkCounts(message, ['readRound']);
    case 'snapshot-request':
      if (!(message.data instanceof Uint8Array)) return 'field data is not a byte array';
      return (
        checkCounts(message, ['offset']) ??
        checkBooleans(message, ['done']) ??
        checkSnapshotMeta(message.meta, message.term as number)
      );
    case 'snapshot-response':
      return (
        checkCounts(message, ['snapshotIndex', 'nextOffset', 'lastIndex']) ??
        checkBooleans(message, ['installed'])
      );
    case 'timeout-now':
      return null;
    case 'read-index-request':
      return checkCounts(message, ['requestId']);
    case 'read-index-response':
      return checkCounts(message, ['requestId', 'index']);
    default:
      return `unknown message type ${describe(message.type)}`;
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function checkCounts(message: Record<string, unknown>, fields: readonly string[]): string | null {
  for (const field of fields) {
    if (!isCount(message[field]))
      return `field ${field}=${describe(message[field])} is not a non-negative integer`;
  }
  return null;
}

function checkBooleans(message: Record<string, unknown>, fields: readonly string[]): string | null {
  for (const field of fields) {
    if (typeof message[field] !== 'boolean')
      return `field ${field}=${describe(message[field])} is not a boolean`;
  }
  return null;
}

function checkEntries(message: Record<string, unknown>): string | null {
  const entries = message.entries;
  if (!Array.isArray(entries)) return 'field entries is not an array';
  let expectedIndex = (message.prevIndex as number) + 1;
  let previousTerm = message.prevTerm as number;
  for (const value of entries as unknown[]) {
    const problem = checkEntry(value);
    if (problem !== null)
      return `entry at position ${expectedIndex - (message.prevIndex as number) - 1}: ${problem}`;
    const entry = value as Entry;
    if (entry.index !== expectedIndex)
      return `entry index ${entry.index} does not follow ${expectedIndex - 1}`;
    if (entry.term < 1 || entry.term < previousTerm || entry.term > (message.term as number)) {
      return `entry ${entry.index} has term ${entry.term}, outside [${Math.max(previousTerm, 1)}, ${message.term}]`;
    }
    previousTerm = entry.term;
    expectedIndex++;
  }
  return null;
}

function checkEntry(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const entry = value as Record<string, unknown>;
  const problem = checkCounts(entry, ['index', 'term']);
  if (problem !== null) return problem;
  switch (entry.kind) {
    case 'noop':
      return null;
    case 'command':
      return entry.data instanceof Uint8Array ? null : 'command data is not a byte array';
    case 'config':
      return checkMembership(entry.membership);
    default:
      return `unknown entry kind ${describe(entry.kind)}`;
  }
}

function checkMembership(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'membership is not an object';
  const membership = value as Record<keyof Membership, unknown>;
  for (const field of ['voters', 'learners', 'removed'] as const) {
    const ids = membership[field];
    if (!Array.isArray(ids) || !ids.every((id) => isCount(id) && id > 0)) {
      return `membership ${field} is not a list of node ids`;
    }
  }
  return null;
}

function checkSnapshotMeta(value: unknown, messageTerm: number): string | null {
  if (typeof value !== 'object' || value === null) return 'field meta is not an object';
  const meta = value as Record<string, unknown>;
  const problem = checkCounts(meta, ['index', 'term']) ?? checkMembership(meta.membership);
  if (problem !== null) return problem;
  const term = meta.term as number;
  if ((meta.index as number) < 1 || term < 1 || term > messageTerm) {
    return `snapshot at index ${meta.index} term ${term} is impossible from a leader of term ${messageTerm}`;
  }
  return null;
}

/** Formats any decoded value for an error message without throwing (BigInts, objects without toString). */
function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    return typeof value;
  }
}
