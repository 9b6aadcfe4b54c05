import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RaftError } from '../../../src/raft/errors.js';
import { DriverCluster, waitFor } from './harness.js';

const text = (value: string) => new TextEncoder().encode(value);

describe('RaftDriver on LevelDB', () => {
  test('elects a leader, commits proposals and applies them in the same order everywhere', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    const outcome = await leader.driver.propose(text('first'));
    assert.deepEqual(outcome.result, { position: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => leader.driver.propose(text(`w${i}`))));
    await waitFor(
      () => [...cluster.members.values()].every((member) => member.machine.items.length === 21),
      10_000,
      'every server to apply 21 commands',
    );
    const lists = [...cluster.members.values()].map((member) => member.machine.items.join(','));
    assert.equal(new Set(lists).size, 1);
  });

  test('one fsync covers many proposals (group commit)', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    await leader.driver.propose(text('warm-up'));
    const before = leader.saves;
    await Promise.all(Array.from({ length: 500 }, (_, i) => leader.driver.propose(text(`g${i}`))));
    const saves = leader.saves - before;
    assert.ok(saves < 100, `500 proposals took ${saves} saves on the leader`);
  });

  test('a follower rejects proposals with NOT_LEADER and the leader id', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    await leader.driver.propose(text('x'));
    const follower = await waitFor(() =>
      [...cluster.members.values()].find(
        (member) => member !== leader && member.driver.status().leaderId === leader.driver.id,
      ),
    );
    assert.throws(
      () => follower.driver.propose(text('y')),
      (err: unknown) =>
        err instanceof RaftError && err.code === 'NOT_LEADER' && err.leaderId === leader.driver.id,
    );
  });

  test('a read on a follower resolves once it has applied the latest write', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    const { index } = await leader.driver.propose(text('read-me'));
    const follower = [...cluster.members.values()].find((member) => member !== leader)!;
    await waitFor(() => follower.driver.status().leaderId !== 0, 10_000, 'the follower to know the leader');
    const readIndex = await follower.driver.readIndex();
    assert.ok(readIndex >= index, `read index ${readIndex} is below the write at ${index}`);
    assert.ok(follower.machine.items.includes('read-me'));
  });

  test('write barrier: leader skips ReadIndex', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    const { index } = await leader.driver.propose(text('before'));
    const follower = [...cluster.members.values()].find((member) => member !== leader)!;
    await follower.driver.writeBarrier();
    assert.ok(follower.machine.items.includes('before'), 'the follower applied the write first');

    // Cut the leader off: a ReadIndex round can no longer complete, but the write barrier needs
    // none, because the leader already committed in its term and applied up to its commit index.
    cluster.allow = (message) => message.from !== leader.driver.id && message.to !== leader.driver.id;
    const read = leader.driver.readIndex();
    await leader.driver.writeBarrier();
    assert.ok(leader.driver.status().applied >= index);
    await assert.rejects(read, (err: unknown) => err instanceof RaftError && err.code === 'NO_LEADER');
  });

  test("an entry that a cut-off leader proposes in its barrier's term never commits", async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const old = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    await old.driver.propose(text('before'));
    const term = await old.driver.writeBarrier();
    assert.equal(term, old.driver.status().term);

    cluster.allow = (message) => message.from !== old.driver.id && message.to !== old.driver.id;
    const others = [...cluster.members.values()].filter((member) => member !== old);
    const next = await waitFor(
      () => others.find((member) => member.driver.status().role === 'leader'),
      10_000,
      'a leader among the other two',
    );
    await next.driver.propose(text('after'));
    // The old leader may still believe it leads; either it refuses at once or its entry is replaced.
    let refused: unknown = null;
    let proposal: Promise<unknown> | null = null;
    try {
      proposal = old.driver.propose(text('stale'), term!);
    } catch (err) {
      refused = err;
    }
    cluster.allow = () => true;
    if (proposal !== null) {
      await assert.rejects(proposal, (err: unknown) => err instanceof RaftError && err.code === 'NOT_LEADER');
    } else {
      assert.ok(refused instanceof RaftError);
      assert.equal(refused.code, 'NOT_LEADER');
    }
    await waitFor(() => old.machine.items.includes('after'), 10_000, 'the old leader to catch up');
    assert.equal(old.machine.items.includes('stale'), false);
    assert.throws(
      () => old.driver.propose(text('stale again'), term!),
      (err: unknown) => err instanceof RaftError && err.code === 'NOT_LEADER',
    );
  });

  test('apply runs during the next save', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    const member = await cluster.start(1, [1]);
    await waitFor(() => member.driver.status().role === 'leader', 10_000, 'a leader');
    await member.driver.propose(text('warm-up'));

    // A's save runs; B arrives meanwhile, and its save waits at the gate.
    let openGate: () => void = () => undefined;
    const saves = member.saves;
    const first = member.driver.propose(text('A'));
    await waitFor(() => member.saves > saves, 10_000, "A's save to start");
    member.saveGate = new Promise((resolve) => {
      openGate = resolve;
    });
    const second = member.driver.propose(text('B'));
    t.after(() => openGate());

    const applied = await Promise.race([
      first.then(() => 'applied'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000)),
    ]);
    assert.equal(applied, 'applied', "A waited for B's save");
    assert.equal(member.machine.items.includes('B'), false, 'B was applied before its save');
    member.saveGate = null;
    openGate();
    await second;
    assert.deepEqual(member.machine.items.slice(-2), ['A', 'B']);
  });

  test('servers draw their own snapshot thresholds', async (t) => {
    // Server 1 draws the lowest threshold (40), the others the highest (59).
    const cluster = new DriverCluster({
      snapshotThresholdEntries: 40,
      random: (id) => (bound) => (id === 1 ? 0 : bound - 1),
    });
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    for (let i = 0; i < 50; i++) await leader.driver.propose(text(`s${i}`));
    const members = [...cluster.members.entries()];
    await waitFor(
      () => members.every(([, member]) => member.machine.items.length === 50),
      10_000,
      'every server to apply 50 commands',
    );
    const snapshotIndex = (id: number) => cluster.members.get(id)!.driver.status().snapshotIndex;
    assert.ok(snapshotIndex(1) > 0, 'server 1 took a snapshot past its threshold of 40');
    assert.equal(snapshotIndex(2), 0, 'server 2 waits for its threshold of 59');
    assert.equal(snapshotIndex(3), 0, 'server 3 waits for its threshold of 59');
  });

  test('a restarted server keeps what it applied, from its snapshot and log', async (t) => {
    const cluster = new DriverCluster({ snapshotThresholdEntries: 50 });
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    for (let i = 0; i < 120; i++) await leader.driver.propose(text(`r${i}`));
    const follower = [...cluster.members.entries()].find(([, member]) => member !== leader)!;
    await waitFor(() => follower[1].machine.items.length === 120, 10_000, 'the follower to apply 120');
    assert.ok(follower[1].driver.status().snapshotIndex > 0, 'the follower took a snapshot');
    await cluster.stop(follower[0]);
    const restarted = await cluster.start(follower[0], null);
    assert.equal(restarted.machine.restores, 1, 'the snapshot was restored at start');
    await waitFor(
      () => restarted.machine.items.length === 120,
      10_000,
      'the restarted server to reapply its log',
    );
    assert.equal(restarted.machine.items.at(-1), 'r119');
  });

  test('a new server catches up from a snapshot sent by the leader', async (t) => {
    const cluster = new DriverCluster({ snapshotThresholdEntries: 20 });
    await cluster.init();
    t.after(() => cluster.close());
    for (const id of [1, 2, 3]) await cluster.start(id, [1, 2, 3]);
    const leader = await waitFor(() => cluster.leader(), 10_000, 'a leader');
    // More than the trailing entries kept below a snapshot (1024), so the log no longer reaches index 1.
    const writes = Array.from({ length: 1500 }, (_, i) => leader.driver.propose(text(`s${i}`)));
    await Promise.all(writes);
    // A proposal resolves once applied, which can be before the batch's save ends and the snapshot
    // that follows it, so the compaction is awaited.
    await waitFor(() => leader.driver.status().firstIndex > 1, 10_000, 'the leader to compact its log');
    const joiner = await cluster.start(4, null);
    await leader.driver.proposeMembership({ type: 'add-learner', nodeId: 4 });
    await waitFor(() => joiner.machine.items.length === 1500, 20_000, 'the new server to catch up');
    assert.ok(joiner.machine.restores >= 1, 'it caught up through a snapshot');
  });

  test('a storage failure stops the driver and fails what waits', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    const only = await cluster.start(1, [1]);
    await waitFor(() => only.driver.status().role === 'leader', 10_000, 'the single server to lead');
    await only.driver.propose(text('ok'));
    await only.storage.close();
    await assert.rejects(only.driver.propose(text('lost')), RaftError);
    await waitFor(() => only.fatal !== null, 10_000, 'the fatal callback');
    assert.equal((only.fatal as { code?: string }).code, 'STORAGE_CLOSED');
    cluster.members.delete(1);
  });
});
