import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_ENTRY_BYTES, type PlanEntry, planEntries } from '../../src/server/scheduling/plan-entries.js';
import { decodeCommand, encodeCommand } from '../../src/state/commands.js';
import type { Allocation } from '../../src/structs/allocation.js';
import { makeAlloc, makeGroup, makeJob, makeTask, NOW } from '../scheduler/fixtures.js';

const job = makeJob('web', [makeGroup('g', 1, [makeTask('t', { CPU: 10, MemoryMB: 10 })])]);

/** Builds a placed allocation with an identity token about `tokenBytes` long, or none for 0. */
function placed(i: number, tokenBytes: number): Allocation {
  const token: Record<string, string> =
    tokenBytes === 0 ? {} : { t: `${'h'.repeat(36)}.${'p'.repeat(tokenBytes - 124)}.${'s'.repeat(86)}` };
  return makeAlloc(`alloc-${i}`, job, 'g', i, `node-${i % 100}`, {
    ClientStatus: 'pending',
    SignedIdentities: token,
    SigningKeyID: tokenBytes === 0 ? '' : 'key-1',
  });
}

function placedIds(entries: readonly PlanEntry[]): string[] {
  return entries.flatMap((entry) => entry.command.place.map((alloc) => alloc.ID));
}

function checkEncoding(entries: readonly PlanEntry[]): void {
  for (const [i, entry] of entries.entries()) {
    assert.ok(entry.bytes.length <= MAX_ENTRY_BYTES, `entry ${i} is ${entry.bytes.length} bytes`);
    assert.deepEqual(entry.bytes, encodeCommand(entry.command), `entry ${i} bytes`);
    assert.deepEqual(decodeCommand(entry.bytes), entry.command, `entry ${i} decodes`);
  }
}

describe('planEntries', () => {
  test('small batch: one entry', () => {
    const allocs = Array.from({ length: 10 }, (_, i) => placed(i, 600));
    const entries = planEntries(allocs, [], NOW);
    assert.equal(entries.length, 1);
    checkEncoding(entries);
    assert.deepEqual(
      placedIds(entries),
      allocs.map((alloc) => alloc.ID),
    );
  });

  test('large batch: several entries in order', () => {
    const allocs = Array.from({ length: 5_000 }, (_, i) => placed(i, 600));
    const entries = planEntries(allocs, [], NOW);
    const total = entries.reduce((sum, entry) => sum + entry.bytes.length, 0);
    assert.ok(entries.length > 1);
    // Parts are cut close to the limit, so there are no more entries than one above the minimum.
    assert.ok(entries.length <= Math.ceil(total / MAX_ENTRY_BYTES) + 1, `${entries.length} entries`);
    checkEncoding(entries);
    assert.deepEqual(
      placedIds(entries),
      allocs.map((alloc) => alloc.ID),
    );
  });

  test('items growing in size: each entry under the limit', () => {
    // The first items size the parts, so the larger ones after them must be cut down again.
    const allocs = [
      ...Array.from({ length: 1_000 }, (_, i) => placed(i, 0)),
      ...Array.from({ length: 2_000 }, (_, i) => placed(1_000 + i, 4_000)),
    ];
    const entries = planEntries(allocs, [], NOW);
    checkEncoding(entries);
    assert.deepEqual(
      placedIds(entries),
      allocs.map((alloc) => alloc.ID),
    );
  });

  test('stops go before placements', () => {
    const stops = Array.from({ length: 20_000 }, (_, i) => ({
      ID: `old-${i}`,
      DesiredDescription: 'alloc not needed due to job update',
    }));
    const allocs = Array.from({ length: 2_000 }, (_, i) => placed(i, 600));
    const entries = planEntries(allocs, stops, NOW);
    checkEncoding(entries);

    const firstPlacing = entries.findIndex((entry) => entry.command.place.length > 0);
    assert.ok(firstPlacing > 0);
    assert.ok(entries.slice(0, firstPlacing).every((entry) => entry.command.place.length === 0));
    assert.ok(entries.slice(firstPlacing).every((entry) => entry.command.stop.length === 0));
    assert.deepEqual(
      entries.flatMap((entry) => entry.command.stop.map((diff) => diff.ID)),
      stops.map((diff) => diff.ID),
    );
    assert.deepEqual(
      placedIds(entries),
      allocs.map((alloc) => alloc.ID),
    );
    assert.ok(entries.every((entry) => entry.command.time === NOW));
  });
});
