import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RaftError } from '../../src/raft/errors.js';
import type { NodeId } from '../../src/raft/types.js';
import { FoundingPromise } from '../../src/server/founding-promise.js';
import { foundingVoters, type Introduction } from '../../src/server/peer-directory.js';
import { DriverCluster, waitFor } from '../raft/driver/harness.js';

/**
 * Codes that ClusterOperations.#onLeader (src/server/cluster-operations.ts, isRetryable) treats
 * as "the request was certainly not applied" and therefore sends again, possibly to a new leader.
 */
const RETRIED_CODES = new Set([
  'NOT_LEADER',
  'TRANSFER_IN_PROGRESS',
  'NO_LEADER',
  'MEMBERSHIP_CHANGE_PENDING',
]);

const text = (value: string) => new TextEncoder().encode(value);

describe('review: driver outcomes that ClusterOperations retries', () => {
  test('stopped leader: committed proposal not retryable', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(
      () => [...cluster.members.values()].find((server) => server.driver.status().role === 'leader'),
      10_000,
      'a leader',
    );
    await leader.driver.propose(text('warm-up'));

    // The followers receive the leader's appends, but the leader hears nothing back, so it
    // cannot learn that the next entry is committed before it stops.
    cluster.allow = (message) => message.to !== leader.driver.id;
    const outcome = leader.driver.propose(text('once')).then(
      () => null,
      (error: unknown) => error,
    );
    const index = leader.driver.status().lastIndex;
    const followers = [...cluster.members.values()].filter((server) => server !== leader);
    await waitFor(
      () => followers.every((server) => server.driver.status().lastIndex >= index),
      10_000,
      'both followers to append the entry',
    );
    await cluster.stop(leader.driver.id);
    const error = await outcome;

    // The two followers hold the entry, elect a leader among themselves, and commit it.
    await waitFor(
      () => followers.every((server) => server.machine.items.includes('once')),
      10_000,
      'the followers to apply the entry that the old leader rejected',
    );
    if (error !== null) {
      assert.ok(error instanceof RaftError, `unexpected rejection ${String(error)}`);
      assert.ok(
        !RETRIED_CODES.has(error.code),
        `the entry at index ${index} committed, but the proposal was rejected with ${error.code}, which ClusterOperations sends again: the command is applied twice`,
      );
    }
  });
});

function introduction(id: number): Introduction {
  return {
    id,
    name: `s${id}`,
    rpcAddr: `127.0.0.1:${5000 + id}`,
    httpAddr: `127.0.0.1:${6000 + id}`,
    pristine: true,
    bootstrapExpect: 3,
    peers: [],
  };
}

describe('review: founding a cluster', () => {
  test('partial views: two founders, but at most one collects every promise', async (t) => {
    // Four pristine servers expecting three, as when a fourth server starts while the first
    // three are founding. Discovery is incremental, so each founder has seen only part of them,
    // and both believe they are the lowest id: the promises must stop one of them.
    const root = await mkdtemp(join(tmpdir(), 'signet-review-founding-'));
    t.after(() => rm(root, { recursive: true, force: true }));
    const first = foundingVoters(introduction(1), [introduction(2), introduction(3)]);
    const second = foundingVoters(introduction(2), [introduction(3), introduction(4)]);
    assert.deepEqual(first, [1, 2, 3]);
    assert.deepEqual(second, [2, 3, 4]);
    const promises = new Map<NodeId, FoundingPromise>();
    for (const id of [1, 2, 3, 4]) {
      promises.set(id, await FoundingPromise.load(join(root, String(id), 'founding-promise')));
    }
    // Each founder promises itself, then asks the others, in both interleavings of server 3.
    const collect = async (founder: NodeId, voters: number[]) => {
      const answers = await Promise.all(voters.map((voter) => promises.get(voter)!.give(founder)));
      return answers.every(Boolean);
    };
    const [firstFounds, secondFounds] = await Promise.all([collect(1, first!), collect(2, second!)]);
    assert.ok(
      !(firstFounds && secondFounds),
      'both founders collected every promise: two different configurations at index 1, term 1',
    );
  });
});
