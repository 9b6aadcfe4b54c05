import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapState } from '../../../src/raft/bootstrap.js';
import { RaftNode, type RaftOptions } from '../../../src/raft/raft.js';
import type { DurableState, Entry, HardState, Snapshot } from '../../../src/raft/types.js';

/**
 * `new RaftNode(options, durable)` with bad input must throw an Error that names the field and
 * its value. These errors are plain Errors without a code, so the check looks for the field name
 * and the value in the message: that text is what an operator reads.
 */

interface Case<T> {
  readonly name: string;
  readonly input: T;
  /** Text that the message must contain: the field (or what it is called in words) and the value. */
  readonly names: readonly string[];
  /** Why the case fails today. The test stays todo until the constructor checks it. */
  readonly todo?: string;
}

const OPTION_CASES: readonly Case<Partial<RaftOptions>>[] = [
  { name: 'id 0', input: { id: 0 }, names: ['id', '0'] },
  { name: 'negative id', input: { id: -3 }, names: ['id', '-3'] },
  { name: 'fractional id', input: { id: 1.5 }, names: ['id', '1.5'] },
  { name: 'zero electionTicks', input: { electionTicks: 0 }, names: ['electionTicks', '0'] },
  { name: 'negative electionTicks', input: { electionTicks: -10 }, names: ['electionTicks', '-10'] },
  { name: 'fractional electionTicks', input: { electionTicks: 10.5 }, names: ['electionTicks', '10.5'] },
  { name: 'NaN electionTicks', input: { electionTicks: Number.NaN }, names: ['electionTicks', 'NaN'] },
  {
    name: 'infinite electionTicks',
    input: { electionTicks: Number.POSITIVE_INFINITY },
    names: ['electionTicks', 'Infinity'],
  },
  { name: 'zero heartbeatTicks', input: { heartbeatTicks: 0 }, names: ['heartbeatTicks', '0'] },
  { name: 'NaN heartbeatTicks', input: { heartbeatTicks: Number.NaN }, names: ['heartbeatTicks', 'NaN'] },
  {
    name: 'heartbeat equal to election',
    input: { heartbeatTicks: 10, electionTicks: 10 },
    names: ['heartbeatTicks', 'electionTicks', '10'],
  },
  {
    name: 'heartbeat above election',
    input: { heartbeatTicks: 12, electionTicks: 5 },
    names: ['heartbeatTicks=12', 'electionTicks=5'],
  },
  {
    name: 'maxEntryBytes above maxAppendBytes',
    input: { maxAppendBytes: 1000, maxEntryBytes: 1001 },
    names: ['maxEntryBytes=1001', 'maxAppendBytes=1000'],
  },
  { name: 'zero maxInflightAppends', input: { maxInflightAppends: 0 }, names: ['maxInflightAppends', '0'] },
  { name: 'negative maxInflightBytes', input: { maxInflightBytes: -1 }, names: ['maxInflightBytes', '-1'] },
  {
    name: 'fractional maxAppendEntries',
    input: { maxAppendEntries: 0.5 },
    names: ['maxAppendEntries', '0.5'],
  },
  {
    name: 'NaN maxUncommittedBytes',
    input: { maxUncommittedBytes: Number.NaN },
    names: ['maxUncommittedBytes', 'NaN'],
  },
  { name: 'zero snapshotChunkBytes', input: { snapshotChunkBytes: 0 }, names: ['snapshotChunkBytes', '0'] },
  {
    name: 'zero transferTimeoutTicks',
    input: { transferTimeoutTicks: 0 },
    names: ['transferTimeoutTicks', '0'],
  },
  {
    name: 'negative snapshotTrailingEntries',
    input: { snapshotTrailingEntries: -1 },
    names: ['snapshotTrailingEntries', '-1'],
  },
  {
    name: 'fractional snapshotTrailingEntries',
    input: { snapshotTrailingEntries: 2.5 },
    names: ['snapshotTrailingEntries', '2.5'],
  },
  {
    name: 'random that is not a function',
    input: { random: 5 as unknown as RaftOptions['random'] },
    names: ['random', '5'],
  },
  {
    name: 'random that returns NaN',
    input: { random: () => Number.NaN },
    names: ['random', 'NaN'],
  },
  {
    name: 'random out of range',
    input: { random: (bound: number) => bound * 2 },
    names: ['random', '20'],
  },
  {
    name: 'preVote given as a string',
    input: { preVote: 'false' as unknown as boolean },
    names: ['preVote', 'false'],
  },
];

function entries(from: number, to: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= to; index++) out.push({ index, term, kind: 'noop' });
  return out;
}

function snapshot(index: number, term: number): Snapshot {
  return {
    meta: { index, term, membership: { voters: [1], learners: [], removed: [] } },
    data: new Uint8Array(),
  };
}

function durable(hardState: Partial<HardState>, snap: Snapshot | null, log: Entry[]): DurableState {
  return { hardState: { term: 1, vote: 0, commit: 0, ...hardState }, snapshot: snap, entries: log };
}

const DURABLE_CASES: readonly Case<DurableState>[] = [
  {
    name: 'gap in entries',
    input: durable({}, null, [...entries(1, 2), ...entries(4, 5)]),
    names: ['gap', '2', '4'],
  },
  {
    name: 'commit beyond last index',
    input: durable({ commit: 9 }, null, entries(1, 5)),
    names: ['commit', '9', '5'],
  },
  {
    name: 'entries below the snapshot',
    input: durable({}, snapshot(10, 1), entries(3, 5)),
    names: ['snapshot', '10', '5'],
  },
  {
    name: 'entries after a hole above the snapshot',
    input: durable({}, snapshot(2, 1), entries(5, 6)),
    names: ['snapshot', '2', '5'],
  },
  {
    name: 'entries starting at index 0',
    input: durable({}, null, entries(0, 2)),
    names: ['index', '0'],
  },
  {
    name: 'NaN term',
    input: durable({ term: Number.NaN }, null, entries(1, 1)),
    names: ['term', 'NaN'],
  },
  {
    name: 'negative term',
    input: durable({ term: -1 }, null, []),
    names: ['term', '-1'],
  },
  {
    name: 'fractional vote',
    input: durable({ vote: 1.5 }, null, entries(1, 1)),
    names: ['vote', '1.5'],
  },
  {
    name: 'negative commit',
    input: durable({ commit: -1 }, null, entries(1, 1)),
    names: ['commit', '-1'],
  },
  {
    name: 'entry terms decreasing',
    input: durable({ term: 3 }, null, [...entries(1, 1, 2), ...entries(2, 2, 1)]),
    names: ['term', '2', '1'],
  },
  {
    name: 'entry term above current term',
    input: durable({ term: 1 }, null, entries(1, 1, 5)),
    names: ['term', '5', '1'],
  },
  {
    name: 'NaN snapshot index',
    input: durable({}, snapshot(Number.NaN, 1), []),
    names: ['snapshot', 'NaN'],
  },
];

function checkNamed(error: unknown, names: readonly string[]): true {
  assert.ok(error instanceof Error, `threw ${String(error)}`);
  for (const name of names)
    assert.ok(error.message.includes(name), `message ${JSON.stringify(error.message)} names ${name}`);
  return true;
}

describe('RaftNode rejects invalid options', () => {
  for (const testCase of OPTION_CASES) {
    test(testCase.name, testCase.todo === undefined ? {} : { todo: testCase.todo }, () => {
      const options: RaftOptions = { id: 1, random: () => 0, ...testCase.input };
      assert.throws(
        () => new RaftNode(options, bootstrapState([1])),
        (error: unknown) => checkNamed(error, testCase.names),
      );
    });
  }
});

describe('RaftNode rejects invalid durable state', () => {
  for (const testCase of DURABLE_CASES) {
    test(testCase.name, testCase.todo === undefined ? {} : { todo: testCase.todo }, () => {
      assert.throws(
        () => new RaftNode({ id: 1, random: () => 0 }, testCase.input),
        (error: unknown) => checkNamed(error, testCase.names),
      );
    });
  }
});
