import type { StopDiff } from '../../scheduler/index.js';
import { encodeCommand } from '../../state/commands.js';
import type { WorkloadCommand } from '../../state/workload-commands.js';
import type { Allocation } from '../../structs/allocation.js';

export type PlanApply = Extract<WorkloadCommand, { type: 'plan-apply' }>;

/** One plan-apply command with its encoded bytes, ready to propose as one Raft entry. */
export interface PlanEntry {
  readonly command: PlanApply;
  /** `encodeCommand(command)`, so the proposer does not validate and encode it again. */
  readonly bytes: Uint8Array;
}

/**
 * Encoded size that one plan-apply entry stays under: below the core's 1 MiB entry limit, with room
 * to spare. A placed allocation of one task with its signed identity encodes to about 1.1 KB for a
 * job and node with short names, and its token is about 600 bytes of it. Each more task adds a token.
 */
export const MAX_ENTRY_BYTES = 768 * 1024;

/**
 * Size that a part is cut for, below MAX_ENTRY_BYTES so that a part whose items are a little larger
 * than the ones measured before it still fits on the first try.
 */
const TARGET_ENTRY_BYTES = Math.floor(MAX_ENTRY_BYTES * 0.9);

/**
 * Splits a batch of accepted plans into plan-apply entries that each encode to at most
 * MAX_ENTRY_BYTES, and encodes each entry once. Stops go first, so that the capacity they free
 * exists before the placements that count on it. Items keep their order across the entries.
 */
// TODO: gate plan-apply v2 and the keyring's first key on every server running a version that
// reads them. Today a server of an older build stops at the first such entry, so an upgrade from a
// build without workload identities restarts every server at once (docs/server.md, Upgrades).
export function planEntries(
  place: readonly Allocation[],
  stop: readonly StopDiff[],
  time: number,
): PlanEntry[] {
  const entries: PlanEntry[] = [];
  if (stop.length > 0) {
    entries.push(
      ...cut(stop, (part) => ({ type: 'plan-apply', v: 2, place: [], stop: part, evals: [], time })),
    );
  }
  if (place.length > 0) {
    entries.push(
      ...cut(place, (part) => ({ type: 'plan-apply', v: 2, place: part, stop: [], evals: [], time })),
    );
  }
  return entries;
}

/**
 * Cuts `items` into consecutive parts whose commands encode to at most MAX_ENTRY_BYTES. The size of
 * the next part comes from the bytes per item measured on the last encoded command, so each item
 * is usually encoded once, where halving the whole batch until it fits encodes a large plan
 * several times over. A part that turns out too large is cut down in proportion and encoded again. A single item is kept as it is even when it exceeds the limit, and
 * the Raft core then rejects it.
 */
function cut<T>(items: readonly T[], build: (part: readonly T[]) => PlanApply): PlanEntry[] {
  const entries: PlanEntry[] = [];
  // Measured on the first item alone, which costs little and sizes the first part.
  let bytesPerItem = encodeCommand(build(items.slice(0, 1))).length;
  let start = 0;
  while (start < items.length) {
    const left = items.length - start;
    let count = Math.min(left, Math.max(1, Math.floor(TARGET_ENTRY_BYTES / bytesPerItem)));
    for (;;) {
      const command = build(items.slice(start, start + count));
      const bytes = encodeCommand(command);
      if (bytes.length <= MAX_ENTRY_BYTES || count === 1) {
        entries.push({ command, bytes });
        bytesPerItem = bytes.length / count;
        start += count;
        break;
      }
      count = Math.max(1, Math.min(count - 1, Math.floor((count * TARGET_ENTRY_BYTES) / bytes.length)));
    }
  }
  return entries;
}
