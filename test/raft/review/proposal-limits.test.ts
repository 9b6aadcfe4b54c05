import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../../../src/raft/errors.js';
import { MemoryCluster } from '../support/memory-cluster.js';

describe('proposal limits', () => {
  test('proposal above maxUncommittedBytes is dropped', () => {
    const limit = 1024;
    const cluster = new MemoryCluster([1, 2, 3], { maxUncommittedBytes: limit, maxAppendBytes: limit });
    cluster.get(1).node.campaign();
    cluster.stabilize();

    assert.throws(
      () => cluster.get(1).node.propose(new Uint8Array(16 * limit)),
      (error: unknown) => error instanceof RaftError && error.code === 'PROPOSAL_DROPPED',
    );
  });
});
