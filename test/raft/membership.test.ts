import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../../src/raft/errors.js';
import { applyMembershipChange, MembershipLog } from '../../src/raft/membership.js';
import { quorumIndex, tallyVotes } from '../../src/raft/quorum.js';
import type { Membership } from '../../src/raft/types.js';

const three: Membership = { voters: [1, 2, 3], learners: [], removed: [] };

describe('applyMembershipChange', () => {
  test('adds, promotes and removes one server', () => {
    const added = applyMembershipChange(three, { type: 'add-learner', nodeId: 4 });
    assert.deepEqual(added.learners, [4]);
    const promoted = applyMembershipChange(added, { type: 'promote', nodeId: 4 });
    assert.deepEqual(promoted.voters, [1, 2, 3, 4]);
    assert.deepEqual(promoted.learners, []);
    const removed = applyMembershipChange(promoted, { type: 'remove', nodeId: 1 });
    assert.deepEqual(removed.voters, [2, 3, 4]);
    assert.deepEqual(removed.removed, [1]);
  });

  const rejected: [string, Membership, Parameters<typeof applyMembershipChange>[1], RegExp][] = [
    ['reused id', { ...three, removed: [7] }, { type: 'add-learner', nodeId: 7 }, /never reused/],
    ['existing member', three, { type: 'add-learner', nodeId: 2 }, /already a member/],
    ['promote a voter', three, { type: 'promote', nodeId: 2 }, /not a learner/],
    ['remove a stranger', three, { type: 'remove', nodeId: 9 }, /not a member/],
    [
      'remove the last voter',
      { voters: [1], learners: [], removed: [] },
      { type: 'remove', nodeId: 1 },
      /last voter/,
    ],
    ['zero id', three, { type: 'add-learner', nodeId: 0 }, /invalid node id 0/],
  ];
  for (const [name, membership, change, pattern] of rejected) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => applyMembershipChange(membership, change),
        (error: unknown) =>
          error instanceof RaftError &&
          error.code === 'MEMBERSHIP_CHANGE_INVALID' &&
          pattern.test(error.message),
      );
    });
  }
});

describe('MembershipLog', () => {
  test('truncation falls back to the previous membership', () => {
    const log = new MembershipLog({ index: 1, membership: three });
    const four = applyMembershipChange(three, { type: 'add-learner', nodeId: 4 });
    log.append(5, four);
    assert.deepEqual(log.latest(), four);
    assert.deepEqual(log.at(4), three);
    log.truncateFrom(5);
    assert.deepEqual(log.latest(), three);
    assert.equal(log.latestIndex(), 1);
  });

  test('compaction keeps the membership in force', () => {
    const log = new MembershipLog({ index: 0, membership: three });
    const four = applyMembershipChange(three, { type: 'add-learner', nodeId: 4 });
    log.append(3, four);
    log.compact(10);
    assert.deepEqual(log.latest(), four);
    assert.equal(log.latestIndex(), 10);
  });
});

describe('quorum', () => {
  test('quorumIndex is the highest index a majority holds', () => {
    const match = new Map([
      [1, 9],
      [2, 5],
      [3, 7],
      [4, 1],
      [5, 7],
    ]);
    assert.equal(
      quorumIndex([1, 2, 3, 4, 5], (id) => match.get(id)!),
      7,
    );
    assert.equal(
      quorumIndex([1, 2], (id) => match.get(id)!),
      5,
    );
    assert.equal(
      quorumIndex([], () => 9),
      0,
    );
  });

  test('tallyVotes decides as soon as the outcome is certain', () => {
    const voters = [1, 2, 3, 4, 5];
    assert.equal(
      tallyVotes(
        voters,
        new Map([
          [1, true],
          [2, true],
        ]),
      ),
      'pending',
    );
    assert.equal(
      tallyVotes(
        voters,
        new Map([
          [1, true],
          [2, true],
          [3, true],
        ]),
      ),
      'won',
    );
    assert.equal(
      tallyVotes(
        voters,
        new Map([
          [1, true],
          [2, false],
          [3, false],
          [4, false],
        ]),
      ),
      'lost',
    );
    // Responses from servers that are not voters are not counted.
    assert.equal(
      tallyVotes(
        [1, 2, 3],
        new Map([
          [1, true],
          [8, true],
          [9, true],
        ]),
      ),
      'pending',
    );
  });
});
