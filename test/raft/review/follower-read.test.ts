import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { staggeredCluster } from './staggered-cluster.js';

describe('ReadIndex on a follower', () => {
  test('read fails when its leader is lost', () => {
    const cluster = staggeredCluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();

    // The request to leader 1 is lost, and 1 is cut off from then on.
    cluster.filter = (message) => message.from !== 1 && message.to !== 1;
    cluster.get(2).node.readIndex(5);
    cluster.tickAll(30);
    const leader = cluster.leaders().find((id) => id !== 1);
    assert.ok(leader !== undefined, 'servers 2 and 3 elected a new leader');

    const follower = cluster.get(2);
    const outcome = [...follower.failedReads, ...follower.readStates.map((read) => read.requestId)];
    assert.deepEqual(outcome, [5], 'request 5 either completed or was reported as failed');
  });
});
