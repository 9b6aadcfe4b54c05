import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '../../src/raft/messages.js';
import type { RaftOptions } from '../../src/raft/raft.js';
import type { DurableState, Entry, NodeId } from '../../src/raft/types.js';
import { MemoryCluster, MemoryServer } from '../raft/support/memory-cluster.js';

/**
 * A recovered server next to an old server of the lost cluster, driven as pure Raft cores.
 *
 * The lost cluster had voters 1, 2 and 3 and reached term OLD_TERM. Server 1 (R) was recovered:
 * its folder holds only a snapshot at RECOVERY_INDEX in term OLD_TERM + 1, with 1 the only voter
 * and 2 and 3 removed, as `recoverDataFolder` writes it. Server 2 (O) is an old server that came
 * back with its data.
 */
const R = 1;
const O = 2;
const X = 3;
const OLD_TERM = 3;
const RECOVERY_INDEX = 10;
const RECOVERY_TERM = OLD_TERM + 1;

function recoveredState(): DurableState {
  return {
    hardState: { term: RECOVERY_TERM, vote: 0, commit: RECOVERY_INDEX },
    snapshot: {
      meta: {
        index: RECOVERY_INDEX,
        term: RECOVERY_TERM,
        membership: { voters: [R], learners: [], removed: [O, X] },
      },
      data: new Uint8Array([1]),
    },
    entries: [],
  };
}

/**
 * Builds an old server's folder: the founding configuration of 1, 2 and 3, a no-op and commands in
 * OLD_TERM up to `lastIndex`, then commands in `newerTerm` (elections that R never saw) up to
 * `newerLastIndex`. Its current term is `term`, which may be far above its log's.
 */
function oldState(spec: {
  lastIndex: number;
  term: number;
  newerTerm?: number;
  newerLastIndex?: number;
}): DurableState {
  const entries: Entry[] = [
    { kind: 'config', index: 1, term: 1, membership: { voters: [R, O, X], learners: [], removed: [] } },
    { kind: 'noop', index: 2, term: OLD_TERM },
  ];
  for (let index = 3; index <= spec.lastIndex; index++) {
    entries.push({ kind: 'command', index, term: OLD_TERM, data: new Uint8Array([index]) });
  }
  if (spec.newerTerm !== undefined && spec.newerLastIndex !== undefined) {
    entries.push({ kind: 'noop', index: spec.lastIndex + 1, term: spec.newerTerm });
    for (let index = spec.lastIndex + 2; index <= spec.newerLastIndex; index++) {
      entries.push({ kind: 'command', index, term: spec.newerTerm, data: new Uint8Array([index]) });
    }
  }
  return { hardState: { term: spec.term, vote: 0, commit: 2 }, snapshot: null, entries };
}

type CoreOptions = Partial<Omit<RaftOptions, 'id' | 'random'>>;

/** Builds a cluster of the given cores. Messages to a server that is not in it are dropped. */
function clusterOf(states: ReadonlyMap<NodeId, DurableState>, options: CoreOptions): MemoryCluster {
  const cluster = new MemoryCluster([R], options);
  cluster.servers.clear();
  for (const [id, durable] of states) {
    cluster.servers.set(id, new MemoryServer(id, { random: () => 0, ...options }, durable));
  }
  return cluster;
}

/** Ticks only server `id` until it leads, delivering messages after each tick. */
function electAlone(cluster: MemoryCluster, id: NodeId, maxTicks = 100): void {
  for (let tick = 0; tick < maxTicks; tick++) {
    if (cluster.get(id).node.status().role === 'leader') return;
    cluster.get(id).node.tick();
    cluster.stabilize();
  }
  assert.fail(`server ${id} did not become leader within ${maxTicks} ticks`);
}

/** Records the vote responses that server `to` receives. */
function recordVotes(cluster: MemoryCluster, to: NodeId): Message[] {
  const seen: Message[] = [];
  cluster.filter = (message) => {
    if (message.to === to && message.type === 'vote-response') seen.push(message);
    return true;
  };
  return seen;
}

/** Lets O campaign for `rounds` election timeouts, ticking only O so R's state moves only on O's messages. */
function campaignRepeatedly(cluster: MemoryCluster, rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    cluster.get(O).node.campaign();
    cluster.stabilize();
  }
}

const MODES = [
  { name: 'with PreVote', options: { preVote: true, checkQuorum: true } },
  { name: 'without PreVote', options: { preVote: false, checkQuorum: true } },
  { name: 'without PreVote or CheckQuorum', options: { preVote: false, checkQuorum: false } },
] as const;

describe('recovered server and an old server with an older log', () => {
  // O's log ends at (OLD_TERM, RECOVERY_INDEX - 1), older than R's (RECOVERY_TERM, RECOVERY_INDEX),
  // but O's current term is far above R's, as after many failed campaigns.
  for (const mode of MODES) {
    test(`leader R keeps its term ${mode.name}`, () => {
      const states = new Map([
        [R, recoveredState()],
        [O, oldState({ lastIndex: RECOVERY_INDEX - 1, term: 60 })],
      ]);
      const cluster = clusterOf(states, mode.options);
      electAlone(cluster, R);
      const term = cluster.get(R).node.status().term;
      assert.equal(term, RECOVERY_TERM + 1, 'R campaigns once, one term above the recovery');

      const votes = recordVotes(cluster, O);
      campaignRepeatedly(cluster, 5);

      const status = cluster.get(R).node.status();
      assert.equal(status.role, 'leader');
      assert.equal(status.term, term, "O's campaigns do not move R's term");
      assert.equal(status.leaderId, R);
      assert.ok(
        votes.every((vote) => vote.type === 'vote-response' && !vote.granted),
        'R grants O no vote',
      );
      assert.notEqual(cluster.get(O).node.status().role, 'leader');
    });

    test(`restarted follower R refuses O ${mode.name}`, () => {
      // R before its first election timeout: it has heard from no leader, so no lease protects it and only
      // the log comparison and the voter check refuse O.
      const states = new Map([
        [R, recoveredState()],
        [O, oldState({ lastIndex: RECOVERY_INDEX - 1, term: 60 })],
      ]);
      const cluster = clusterOf(states, mode.options);
      const votes = recordVotes(cluster, O);
      campaignRepeatedly(cluster, 5);

      const status = cluster.get(R).node.status();
      assert.equal(status.term, RECOVERY_TERM, "O's campaigns do not move R's term");
      assert.equal(status.vote, 0, 'R votes for nobody');
      assert.ok(
        votes.every((vote) => vote.type === 'vote-response' && !vote.granted),
        'R grants O no vote',
      );
      assert.notEqual(cluster.get(O).node.status().role, 'leader');

      electAlone(cluster, R);
      assert.equal(cluster.get(R).node.status().term, RECOVERY_TERM + 1);
    });
  }
});

describe('recovered server and an old server with a newer log', () => {
  // The documented limit: O's log ends in a term above R's, after elections R never saw.
  const newer = {
    lastIndex: RECOVERY_INDEX - 1,
    newerTerm: RECOVERY_TERM + 4,
    newerLastIndex: RECOVERY_INDEX + 5,
  };

  for (const mode of MODES) {
    test(`leader R ignores O's campaigns ${mode.name}`, () => {
      const states = new Map([
        [R, recoveredState()],
        [O, oldState({ ...newer, term: newer.newerTerm })],
      ]);
      const cluster = clusterOf(states, mode.options);
      electAlone(cluster, R);
      const term = cluster.get(R).node.status().term;

      const votes = recordVotes(cluster, O);
      campaignRepeatedly(cluster, 5);

      // A committed removal is final: however new O's log, R grants it nothing and keeps its term.
      const status = cluster.get(R).node.status();
      assert.equal(status.role, 'leader');
      assert.equal(status.term, term);
      assert.ok(
        votes.every((vote) => vote.type === 'vote-response' && !vote.granted),
        'R grants O no vote',
      );
    });
  }

  test('restarted R refuses O its vote', () => {
    const states = new Map([
      [R, recoveredState()],
      [O, oldState({ ...newer, term: newer.newerTerm })],
    ]);
    const cluster = clusterOf(states, { preVote: true, checkQuorum: true });
    campaignRepeatedly(cluster, 1);
    assert.ok(!cluster.leaders().includes(O), 'O needs R, the only other old voter left, and R refuses');
    assert.notEqual(cluster.get(R).node.status().vote, O);

    // R elects itself and leads its own configuration with its recovered state.
    cluster.servers.delete(O);
    electAlone(cluster, R);
    const recovered = cluster.get(R).node.status();
    assert.equal(recovered.role, 'leader');
    assert.deepEqual(recovered.membership, { voters: [R], learners: [], removed: [O, X] });
    assert.equal(recovered.lastIndex, RECOVERY_INDEX + 1);
  });

  test('old leader O of a majority cannot depose R', () => {
    // O and X form a majority of the old configuration and elect O while R cannot reach them.
    const states = new Map([
      [R, recoveredState()],
      [O, oldState({ ...newer, term: newer.newerTerm })],
      [X, oldState({ ...newer, term: newer.newerTerm })],
    ]);
    const cluster = clusterOf(states, { preVote: true, checkQuorum: true });
    cluster.filter = (message) => message.to !== R && message.from !== R;
    electAlone(cluster, R);
    const term = cluster.get(R).node.status().term;
    campaignRepeatedly(cluster, 1);
    assert.deepEqual(cluster.leaders().sort(), [R, O], 'two leaders, each of its own configuration');

    cluster.filter = () => true;
    cluster.tickAll(50);

    // R drops O's heartbeats and appends: it keeps leading at its own term and stores none of the
    // old cluster's entries. The old servers still run a cluster of their own, which is why the
    // recovery steps say to delete their data first.
    const recovered = cluster.get(R).node.status();
    assert.equal(recovered.role, 'leader');
    assert.equal(recovered.term, term);
    assert.equal(recovered.lastIndex, RECOVERY_INDEX + 1, "R's log is not replaced");
    assert.deepEqual(recovered.membership, { voters: [R], learners: [], removed: [O, X] });
  });
});
