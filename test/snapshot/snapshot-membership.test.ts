import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryCluster } from '../raft/support/memory-cluster.js';

describe('membership recorded with a snapshot', () => {
  test('uncommitted change is not at applied', () => {
    const cluster = new MemoryCluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();
    const leader = cluster.get(1).node;
    const applied = leader.status().applied;

    // The change is appended on the leader but never replicated, so it does not commit.
    cluster.filter = () => false;
    const change = leader.proposeMembership({ type: 'add-learner', nodeId: 4 });
    cluster.stabilize();

    assert.deepEqual(leader.status().membership.learners, [4], 'the newest configuration is in force');
    assert.equal(leader.status().applied, applied);
    assert.deepEqual(leader.membershipAt(applied), { voters: [1, 2, 3], learners: [], removed: [] });
    assert.deepEqual(leader.membershipAt(change.index).learners, [4]);
  });
});
