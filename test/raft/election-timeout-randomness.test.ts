import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bootstrapState } from '../../src/raft/bootstrap.js';
import type { Message } from '../../src/raft/messages.js';
import { RaftNode } from '../../src/raft/raft.js';
import type { NodeId, RandomInt } from '../../src/raft/types.js';
import { Prng } from '../sim/prng.js';

const ELECTION_TICKS = 10;
const IDS: readonly NodeId[] = [1, 2, 3];

interface ElectionOutcome {
  /** Tick at which a server first became leader, or null. */
  readonly leaderAtTick: number | null;
  /** Highest term reached, which counts the elections that were tried. */
  readonly term: number;
}

/**
 * Runs a symmetric three-server cluster with lossless, instant delivery: every tick, each server
 * ticks, then messages are delivered (in the order they were sent) until none is left.
 * Durable writes are skipped because no server crashes.
 */
function runElections(randomFor: (id: NodeId) => RandomInt, ticks: number): ElectionOutcome {
  const initial = bootstrapState(IDS);
  const nodes = new Map(
    IDS.map((id) => [
      id,
      new RaftNode({ id, random: randomFor(id), electionTicks: ELECTION_TICKS }, initial),
    ]),
  );
  for (let tick = 1; tick <= ticks; tick++) {
    for (const node of nodes.values()) node.tick();
    for (let round = 0; ; round++) {
      assert.ok(round < 1000, 'messages kept flowing for 1000 rounds within one tick');
      const messages: Message[] = [];
      for (const node of nodes.values()) {
        while (node.hasReady()) {
          const ready = node.ready();
          messages.push(...ready.messages);
          node.advance(ready);
        }
      }
      if (messages.length === 0) break;
      for (const message of messages) nodes.get(message.to)?.step(message);
    }
    if ([...nodes.values()].some((node) => node.status().role === 'leader')) {
      return { leaderAtTick: tick, term: Math.max(...[...nodes.values()].map((node) => node.status().term)) };
    }
  }
  return { leaderAtTick: null, term: Math.max(...[...nodes.values()].map((node) => node.status().term)) };
}

describe('randomised election timeout', () => {
  test('zero randomness livelocks elections', () => {
    const ticks = 100 * ELECTION_TICKS;
    const outcome = runElections(() => () => 0, ticks);

    assert.equal(outcome.leaderAtTick, null, 'a leader was elected although every timeout was equal');
    // Not idle: the servers kept campaigning, and every election split the vote.
    assert.ok(outcome.term >= 20, `expected repeated elections, reached only term ${outcome.term}`);
  });

  test('seeded randomness elects a leader', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const outcome = runElections((id) => {
        const rng = new Prng(seed, id);
        return (bound) => rng.int(bound);
      }, 10 * ELECTION_TICKS);

      assert.notEqual(outcome.leaderAtTick, null, `seed ${seed}: no leader within 10 election timeouts`);
    }
  });
});
