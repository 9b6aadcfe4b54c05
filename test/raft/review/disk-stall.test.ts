import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { staggeredCluster } from './staggered-cluster.js';

describe('leader disk stall', () => {
  test('heartbeats continue while a write is in flight', () => {
    const electionTicks = 10;
    const cluster = staggeredCluster([1, 2, 3], { electionTicks });
    cluster.get(1).node.campaign();
    cluster.stabilize();
    const term = cluster.get(1).node.status().term;

    // The leader takes a batch with a new entry, and its fsync stalls for 3 election timeouts.
    cluster.get(1).node.propose(new TextEncoder().encode('x'));
    const stalled = cluster.get(1).node.ready();
    assert.notEqual(stalled.persist, null);
    cluster.tickAll(3 * electionTicks);

    for (const id of [1, 2, 3]) {
      assert.equal(cluster.get(id).node.status().term, term, `server ${id} stayed in term ${term}`);
    }
    assert.deepEqual(cluster.leaders(), [1]);
  });
});
