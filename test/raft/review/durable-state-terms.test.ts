import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftNode } from '../../../src/raft/raft.js';
import type { DurableState } from '../../../src/raft/types.js';

describe('validateDurableState', () => {
  test('rejects entry term below snapshot', () => {
    const membership = { voters: [1], learners: [], removed: [] };
    const durable: DurableState = {
      hardState: { term: 2, vote: 1, commit: 5 },
      snapshot: { meta: { index: 5, term: 2, membership }, data: new Uint8Array() },
      entries: [{ index: 6, term: 1, kind: 'command', data: new Uint8Array() }],
    };
    assert.throws(() => new RaftNode({ id: 1, random: () => 0 }, durable));
  });
});
