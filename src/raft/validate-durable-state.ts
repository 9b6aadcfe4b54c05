import type { DurableState, Membership } from './types.js';

/**
 * Checks a durable state before a core starts from it: the hard state, the snapshot metadata and
 * the log must be well formed and agree with each other. Storage already checks what it writes,
 * so a failure here means corrupt storage or a caller bug; the error names the field and value.
 */
export function validateDurableState(durable: DurableState): void {
  const { hardState, snapshot, entries } = durable;
  for (const field of ['term', 'vote', 'commit'] as const) {
    requireCount(`hard state ${field}`, hardState[field]);
  }

  let lastTerm = 0;
  if (snapshot !== null) {
    requireCount('snapshot index', snapshot.meta.index);
    requireCount('snapshot term', snapshot.meta.term);
    requireMembership('snapshot membership', snapshot.meta.membership);
    if (!(snapshot.data instanceof Uint8Array))
      throw new Error('invalid durable state: snapshot data is not a byte array');
    lastTerm = snapshot.meta.term;
  }

  const snapshotIndex = snapshot?.meta.index ?? 0;
  let previousTerm = 0;
  for (const entry of entries) {
    // Entries kept below the snapshot are older than it; the first one after it is not.
    if (entry.index === snapshotIndex + 1) previousTerm = Math.max(previousTerm, snapshot?.meta.term ?? 0);
    requireCount(`entry index`, entry.index);
    requireCount(`term of entry ${entry.index}`, entry.term);
    if (entry.index < 1)
      throw new Error(`invalid durable state: entry index ${entry.index}, log indexes start at 1`);
    if (entry.term < previousTerm) {
      throw new Error(
        `invalid durable state: entry ${entry.index} has term ${entry.term}, below the term ${previousTerm} before it`,
      );
    }
    previousTerm = entry.term;
  }
  lastTerm = Math.max(lastTerm, previousTerm);
  if (hardState.term < lastTerm) {
    throw new Error(
      `invalid durable state: hard state term ${hardState.term} is below the last log term ${lastTerm}`,
    );
  }
}

function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`invalid durable state: ${name}=${value}, expected a non-negative integer`);
  }
}

function requireMembership(name: string, membership: Membership): void {
  for (const field of ['voters', 'learners', 'removed'] as const) {
    const ids = membership?.[field];
    if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
      throw new Error(`invalid durable state: ${name} ${field} is not a list of node ids`);
    }
  }
}
