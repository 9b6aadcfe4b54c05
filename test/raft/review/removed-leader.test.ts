import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROTOCOL_VERSION } from '../../../src/raft/messages.js';
import type { DurableState } from '../../../src/raft/types.js';
import { MemoryServer } from '../support/memory-cluster.js';

/**
 * Returns the durable state that `operator raft recover` leaves. Its snapshot names this server as
 * the only voter and the old servers 2 and 3 as removed, at a term above the old ones.
 */
function recoveredState(): DurableState {
  return {
    hardState: { term: 5, vote: 0, commit: 100 },
    snapshot: {
      meta: { index: 100, term: 5, membership: { voters: [1], learners: [], removed: [2, 3] } },
      data: new Uint8Array(),
    },
    entries: [],
  };
}

/** Elects the recovered single voter and returns it with its term. */
function recoveredLeader(): MemoryServer {
  const server = new MemoryServer(1, { random: () => 0, checkQuorum: true, preVote: true }, recoveredState());
  server.node.campaign();
  server.drain();
  assert.equal(server.node.status().role, 'leader', 'the recovered server leads alone');
  return server;
}

describe('recovered server and removed servers', () => {
  // Two old servers that come back with their data form a quorum of the old configuration and
  // elect a leader at a higher term. Its heartbeats must not depose the recovered leader, whose
  // membership lists that leader as removed.
  test('heartbeat from removed id ignored', () => {
    const server = recoveredLeader();
    const term = server.node.status().term;
    server.node.step({
      v: PROTOCOL_VERSION,
      type: 'heartbeat-request',
      from: 3,
      to: 1,
      term: term + 1,
      commit: 100,
      readRound: 0,
    });
    server.drain();

    assert.equal(server.node.status().role, 'leader');
    assert.equal(server.node.status().term, term);
    assert.equal(server.node.status().leaderId, 1);
  });

  // Entries from the old cluster's leader would mix two histories in one log.
  test('append from removed id ignored', () => {
    const server = recoveredLeader();
    const before = server.node.status();
    server.node.step({
      v: PROTOCOL_VERSION,
      type: 'append-request',
      from: 3,
      to: 1,
      term: before.term + 1,
      prevIndex: before.lastIndex,
      prevTerm: before.term,
      entries: [
        { index: before.lastIndex + 1, term: before.term + 1, kind: 'command', data: new Uint8Array([1]) },
      ],
      commit: before.lastIndex + 1,
    });
    server.drain();

    const after = server.node.status();
    assert.equal(after.role, 'leader');
    assert.equal(after.term, before.term);
    assert.equal(after.lastIndex, before.lastIndex);
  });
});
