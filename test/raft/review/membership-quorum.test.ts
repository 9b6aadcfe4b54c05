import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../../../src/raft/errors.js';
import { MemoryCluster } from '../support/memory-cluster.js';

describe('membership change and quorum', () => {
  test('removal that strands quorum is rejected', () => {
    const cluster = new MemoryCluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();
    cluster.get(1).node.propose(new TextEncoder().encode('x'));
    cluster.stabilize();

    // Server 3 is down. Servers 1 and 2 still form a quorum of {1, 2, 3}, and the
    // leader has heard nothing from 3 for a whole CheckQuorum round.
    cluster.filter = (message) => message.from !== 3 && message.to !== 3;
    cluster.tickAll(10);
    assert.equal(cluster.get(1).node.status().role, 'leader');

    // An operator removes the healthy server 2. The new voters {1, 3} need both 1 and 3.
    let error: unknown = null;
    try {
      cluster.get(1).node.proposeMembership({ type: 'remove', nodeId: 2 });
    } catch (caught) {
      error = caught;
    }
    if (error === null) {
      cluster.stabilize();
      const before = cluster.get(1).node.status().commit;
      cluster.tickAll(30);
      const leader = cluster.leaders()[0];
      const after = leader === undefined ? before : cluster.get(leader).node.status().commit;
      assert.fail(`the removal was accepted and the cluster has no quorum: commit ${before} -> ${after}`);
    }
    assert.ok(error instanceof RaftError);
    assert.equal(error.code, 'MEMBERSHIP_CHANGE_INVALID');
  });
});
