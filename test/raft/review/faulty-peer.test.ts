import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AppendResponse, HeartbeatResponse, VoteRequest } from '../../../src/raft/messages.js';
import { PROTOCOL_VERSION } from '../../../src/raft/messages.js';
import { validateMessage } from '../../../src/raft/validate-message.js';
import { MemoryCluster } from '../support/memory-cluster.js';

function clusterWithLeader(): MemoryCluster {
  const cluster = new MemoryCluster([1, 2, 3]);
  cluster.get(1).node.campaign();
  cluster.stabilize();
  return cluster;
}

describe('messages that pass validateMessage', () => {
  test('append ack beyond the leader log', () => {
    const cluster = clusterWithLeader();
    const leader = cluster.get(1).node;
    const { term, lastIndex } = leader.status();
    const ack: AppendResponse = {
      v: PROTOCOL_VERSION,
      from: 2,
      to: 1,
      term,
      type: 'append-response',
      success: true,
      index: lastIndex + 10,
      hintIndex: 0,
      hintTerm: 0,
    };

    assert.equal(validateMessage(ack), null);
    assert.doesNotThrow(() => leader.step(ack));
    const progress = leader.followerProgress().find((follower) => follower.id === 2);
    assert.ok(
      progress !== undefined && progress.match <= lastIndex,
      `match ${progress?.match} > ${lastIndex}`,
    );
  });

  test('read round from the future', () => {
    const cluster = clusterWithLeader();
    const leader = cluster.get(1);
    cluster.get(1).node.propose(new TextEncoder().encode('x'));
    cluster.stabilize();
    const term = leader.node.status().term;
    const future = (readRound: number): HeartbeatResponse => ({
      v: PROTOCOL_VERSION,
      from: 2,
      to: 1,
      term,
      type: 'heartbeat-response',
      readRound,
    });

    // One read completes normally, so round 1 exists.
    leader.node.readIndex(6);
    cluster.stabilize();
    assert.deepEqual(
      leader.readStates.map((read) => read.requestId),
      [6],
    );

    // A forged acknowledgement of a round not sent yet, then a read whose heartbeats are lost.
    cluster.filter = () => false;
    leader.node.step(future(1_000));
    leader.node.readIndex(7);
    // A genuine but old acknowledgement (round 1) must not release the read of round 2.
    leader.node.step(future(1));
    cluster.stabilize();

    // No heartbeat sent after the read reached any follower, so nothing confirmed it.
    assert.deepEqual(
      leader.readStates.map((read) => read.requestId),
      [6],
    );
  });

  test('sender id 0 is rejected', () => {
    const request: VoteRequest = {
      v: PROTOCOL_VERSION,
      from: 0,
      to: 2,
      term: 5,
      type: 'vote-request',
      preVote: false,
      lastLogIndex: 100,
      lastLogTerm: 4,
      transfer: false,
    };
    assert.notEqual(validateMessage(request), null);
  });
});
