import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROTOCOL_VERSION } from '../../../src/raft/messages.js';
import { MAX_TERM } from '../../../src/raft/validate-message.js';
import { MemoryCluster } from '../support/memory-cluster.js';

describe('terms near MAX_TERM', () => {
  // A lie at MAX_TERM itself leaves no term to campaign in: Raft trusts its peers, and the
  // transport authenticates them. One term below still leaves a working cluster.
  test('cluster elects after term MAX_TERM - 1', () => {
    const cluster = new MemoryCluster([1, 2, 3], { checkQuorum: true, preVote: true });
    cluster.get(1).node.campaign();
    cluster.stabilize();
    assert.deepEqual(cluster.leaders(), [1]);

    // One stale or forged heartbeat response at the highest term a server adopts. It passes
    // validateMessage (2^52 is the highest valid term), so the leader steps down into that term.
    cluster.get(1).node.step({
      v: PROTOCOL_VERSION,
      type: 'heartbeat-response',
      from: 2,
      to: 1,
      term: MAX_TERM - 1,
      readRound: 0,
    });
    assert.equal(cluster.get(1).node.status().term, MAX_TERM - 1);
    cluster.stabilize();

    cluster.tickAll(300);
    const terms = [1, 2, 3].map((id) => cluster.get(id).node.status().term);
    assert.equal(cluster.leaders().length, 1, `no leader after 300 ticks; terms ${terms.join(', ')}`);
  });
});
