import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapState, emptyState } from '../../../src/raft/bootstrap.js';
import type { Message } from '../../../src/raft/messages.js';
import { PROTOCOL_VERSION } from '../../../src/raft/messages.js';
import type { RaftOptions } from '../../../src/raft/raft.js';
import { MemoryStorage } from '../../../src/raft/storage/memory.js';
import type { DurableState, NodeId } from '../../../src/raft/types.js';
import { validateMessage } from '../../../src/raft/validate-message.js';
import { MemoryCluster } from '../support/memory-cluster.js';
import { CheckedServer } from './fixtures/checked-cluster.js';

/**
 * Messages from a faulty or lying peer that once crashed or misled a server, most of them found
 * by the property test in step-fuzz.test.ts. Each stays as a regression test.
 */

/** A server whose batches must pass MemoryStorage's checks, as LevelStorage would check them. */
function checkedServer(id: NodeId, state: DurableState, options: Partial<RaftOptions> = {}): CheckedServer {
  return new CheckedServer(id, { random: () => 0, ...options }, MemoryStorage.fromState(state));
}

/** Runs the ready/advance loop for `ticks` ticks. It throws if storage rejects a batch. */
function runTicks(server: CheckedServer, ticks: number): void {
  server.drain();
  for (let k = 0; k < ticks; k++) {
    server.node.tick();
    server.drain();
  }
}

function header(from: NodeId, to: NodeId, term: number) {
  return { v: PROTOCOL_VERSION, from, to, term };
}

describe('faulty peer messages', () => {
  test('null message is ignored', {}, () => {
    const server = checkedServer(1, bootstrapState([1, 2, 3]));
    for (const value of [null, undefined]) {
      assert.doesNotThrow(() => server.node.step(value as unknown as Message), `step(${value})`);
    }
  });

  test('unprintable field is rejected', {}, () => {
    const server = checkedServer(1, bootstrapState([1, 2, 3]));
    // msgpackr decodes a map with a "toString" key to such an object, and a 64-bit integer to a BigInt.
    const cases: Record<string, unknown> = {
      'term with a toString field': {
        ...header(2, 1, 1),
        type: 'heartbeat-request',
        term: { toString: '' },
        commit: 0,
        readRound: 0,
      },
      'term without a prototype': {
        ...header(2, 1, 1),
        type: 'heartbeat-request',
        term: Object.create(null),
        commit: 0,
        readRound: 0,
      },
      'type as a BigInt': { ...header(2, 1, 1), type: 2n ** 63n },
      'entry kind as a BigInt': {
        ...header(2, 1, 1),
        type: 'append-request',
        prevIndex: 1,
        prevTerm: 1,
        entries: [{ index: 2, term: 1, kind: 5n }],
        commit: 0,
      },
    };
    for (const [name, message] of Object.entries(cases)) {
      let problem: string | null = null;
      assert.doesNotThrow(() => {
        problem = validateMessage(message);
      }, `validateMessage of ${name}`);
      assert.equal(typeof problem, 'string', `${name} is rejected`);
      assert.doesNotThrow(() => server.node.step(message as Message), `step of ${name}`);
    }
  });

  test('entry of term 0 is rejected', {}, () => {
    const message: Message = {
      ...header(2, 4, 1),
      type: 'append-request',
      prevIndex: 0,
      prevTerm: 0,
      entries: [{ index: 1, term: 0, kind: 'noop' }],
      commit: 0,
    };
    // A server about to join, and a founding server that has not committed its first entry yet.
    for (const [name, state] of [
      ['empty server', emptyState()],
      ['founding server', bootstrapState([2, 3, 4])],
    ] as const) {
      const server = checkedServer(4, state);
      server.node.step(message);
      assert.doesNotThrow(() => runTicks(server, 1), `${name}: storage accepts what the core wrote`);
    }
  });

  test('snapshot of term 0 is rejected', {}, () => {
    const server = checkedServer(4, emptyState());
    server.node.step({
      ...header(2, 4, 1),
      type: 'snapshot-request',
      meta: { index: 5, term: 0, membership: { voters: [2], learners: [4], removed: [] } },
      offset: 0,
      data: new Uint8Array([1, 2, 3]),
      done: true,
    });
    assert.doesNotThrow(() => runTicks(server, 1));
  });

  test('snapshot newer than sender is rejected', {}, () => {
    // A single voter with a learner, so that it elects itself and then replicates.
    const membership = { voters: [1], learners: [2], removed: [] };
    const server = checkedServer(1, {
      hardState: { term: 1, vote: 0, commit: 1 },
      snapshot: null,
      entries: [{ index: 1, term: 1, kind: 'config', membership }],
    });
    server.node.step({
      ...header(2, 1, 1),
      type: 'snapshot-request',
      meta: { index: 2, term: 3, membership },
      offset: 0,
      data: new Uint8Array(),
      done: true,
    });
    const sent: Message[] = [];
    for (let tick = 0; tick < 30; tick++) {
      server.node.tick();
      sent.push(...server.drain());
    }
    assert.equal(server.node.status().role, 'leader');
    const appends = sent.filter((message) => message.type === 'append-request');
    assert.ok(appends.length > 0, 'the leader replicated to its learner');
    for (const message of appends)
      assert.equal(validateMessage(message), null, 'the learner accepts the append');
  });

  describe('term near 2^53 does not overflow', () => {
    test('campaign after a huge term', () => {
      const server = checkedServer(1, bootstrapState([1, 2, 3]), { preVote: false });
      server.node.step({
        ...header(2, 1, Number.MAX_SAFE_INTEGER),
        type: 'heartbeat-request',
        commit: 0,
        readRound: 0,
      });
      assert.doesNotThrow(() => runTicks(server, 30));
      assert.ok(Number.isSafeInteger(server.node.status().term), `term ${server.node.status().term}`);
    });

    test('timeout-now after a huge term', () => {
      const server = checkedServer(1, bootstrapState([1, 2, 3]));
      server.node.step({ ...header(2, 1, Number.MAX_SAFE_INTEGER), type: 'timeout-now' });
      assert.doesNotThrow(() => runTicks(server, 1));
      assert.ok(Number.isSafeInteger(server.node.status().term), `term ${server.node.status().term}`);
    });

    test('cluster still elects after a huge term', () => {
      const cluster = new MemoryCluster([1, 2, 3]);
      for (const id of [1, 2, 3]) {
        const random = (bound: number): number => Math.min(id - 1, bound - 1);
        cluster.servers.set(id, checkedServer(id, bootstrapState([1, 2, 3]), { random }));
      }
      cluster.get(1).node.campaign();
      cluster.stabilize();

      // One lie: the cluster recovers by electing a leader in that term.
      cluster.get(2).node.step({
        ...header(3, 2, Number.MAX_SAFE_INTEGER - 1),
        type: 'heartbeat-request',
        commit: 0,
        readRound: 0,
      });
      cluster.tickAll(40);
      assert.equal(cluster.leaders().length, 1, 'a leader after the lie');

      // The next election needs the term after 2^53 - 1.
      const leader = cluster.leaders()[0]!;
      cluster.filter = (message) => message.from !== leader && message.to !== leader;
      cluster.tickAll(40);
      const others = cluster.leaders().filter((id) => id !== leader);
      assert.equal(others.length, 1, 'the other two servers elect a new leader');
    });
  });

  test('probe after lost entries is paced', {}, () => {
    const cluster = new MemoryCluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();
    for (const data of ['a', 'b', 'c']) cluster.get(1).node.propose(new TextEncoder().encode(data));
    cluster.stabilize();

    // Follower 3 restarts from a disk that lost its last acknowledged entry.
    const follower = cluster.get(3);
    const entries = follower.durable.entries.slice(0, -1);
    const lastKept = entries.at(-1)!.index;
    const hardState = {
      ...follower.durable.hardState,
      commit: Math.min(follower.durable.hardState.commit, lastKept),
    };
    follower.durable = { ...follower.durable, entries, hardState };
    follower.restart();

    let sent = 0;
    cluster.filter = () => {
      sent++;
      return true;
    };
    cluster.get(1).node.propose(new TextEncoder().encode('d'));
    const ticks = 5;
    assert.doesNotThrow(() => cluster.tickAll(ticks), 'the cluster goes quiet between ticks');
    // A healthy cluster of three sends a few messages per tick, and the storm sends hundreds.
    assert.ok(sent < 20 * ticks, `${sent} messages in ${ticks} ticks`);
  });
});

describe('faulty peer messages that hold up', () => {
  test('misaddressed messages are ignored', () => {
    const cluster = new MemoryCluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();
    const before = cluster.get(2).node.status();

    const lies: Message[] = [
      { ...header(2, 2, before.term + 5), type: 'timeout-now' },
      { ...header(1, 3, before.term + 5), type: 'timeout-now' },
      { ...header(1, 2, before.term + 5), type: 'timeout-now', v: PROTOCOL_VERSION + 1 },
    ];
    for (const lie of lies) cluster.get(2).node.step(lie);
    assert.deepEqual(cluster.get(2).node.status(), before);
  });

  test('huge safe indexes from a member', () => {
    const cluster = new MemoryCluster([1, 2, 3]);
    cluster.get(1).node.campaign();
    cluster.stabilize();
    const leader = cluster.get(1).node;
    const { term } = leader.status();
    const huge = 2 ** 52;

    leader.step({
      ...header(2, 1, term),
      type: 'append-response',
      success: true,
      index: huge,
      hintIndex: 0,
      hintTerm: 0,
    });
    leader.step({
      ...header(2, 1, term),
      type: 'append-response',
      success: false,
      index: huge,
      hintIndex: huge,
      hintTerm: huge,
    });
    leader.step({ ...header(2, 1, term), type: 'heartbeat-response', readRound: huge });
    leader.step({
      ...header(2, 1, term),
      type: 'snapshot-response',
      snapshotIndex: huge,
      nextOffset: huge,
      installed: true,
      lastIndex: huge,
    });
    leader.step({ ...header(2, 1, term), type: 'read-index-request', requestId: huge });
    cluster.stabilize();

    const progress = leader.followerProgress().find((follower) => follower.id === 2);
    assert.ok(
      progress !== undefined && progress.match <= leader.status().lastIndex,
      `match ${progress?.match}`,
    );
    cluster.get(1).node.propose(new TextEncoder().encode('after'));
    cluster.stabilize();
    assert.equal(cluster.get(2).node.status().commit, leader.status().lastIndex);
  });
});
