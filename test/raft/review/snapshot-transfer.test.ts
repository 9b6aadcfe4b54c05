import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message, SnapshotRequest } from '../../../src/raft/messages.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const CHUNK = 4;

function bytes(fill: string, length: number): Uint8Array {
  return new TextEncoder().encode(fill.repeat(length));
}

function isSnapshotChunk(message: Message, from: number, to: number): message is SnapshotRequest {
  return message.type === 'snapshot-request' && message.from === from && message.to === to;
}

/** Commits a few entries on servers 1 and 2 while server 3 is cut off, so 3 will need a snapshot. */
function clusterWithLaggingFollower(): MemoryCluster {
  const cluster = new MemoryCluster([1, 2, 3], { snapshotChunkBytes: CHUNK, snapshotTrailingEntries: 0 });
  cluster.filter = (message) => message.from !== 3 && message.to !== 3;
  cluster.get(1).node.campaign();
  cluster.stabilize();
  for (const data of ['a', 'b', 'c']) cluster.get(1).node.propose(new TextEncoder().encode(data));
  cluster.stabilize();
  cluster.tickAll(1);
  return cluster;
}

describe('InstallSnapshot transfer', () => {
  test('chunks of two leaders are not mixed', () => {
    const cluster = clusterWithLaggingFollower();
    const applied = cluster.get(1).node.status().applied;
    assert.equal(cluster.get(2).node.status().applied, applied);

    // Both servers snapshot the same committed index. Their encodings differ, as two
    // replicas' encodings may (map order, for example), but each one is a valid snapshot.
    const dataOf1 = bytes('A', 2 * CHUNK);
    const dataOf2 = bytes('B', 2 * CHUNK);
    cluster.get(1).node.compact(applied, dataOf1);
    cluster.get(2).node.compact(applied, dataOf2);
    cluster.stabilize();

    // Server 3 reconnects to leader 1 and receives only the first chunk of 1's snapshot.
    cluster.filter = (message) => !(isSnapshotChunk(message, 1, 3) && message.offset > 0);
    cluster.tickAll(1);
    assert.equal(cluster.get(3).restoredFrom, null);

    // Leader 1 is cut off. Server 2 wins the next election and sends its own snapshot.
    cluster.filter = (message) => message.from !== 1 && message.to !== 1;
    cluster.tickAll(20);
    assert.equal(cluster.get(2).node.status().role, 'leader');

    const restored = cluster.get(3).restoredFrom;
    assert.notEqual(restored, null);
    const installed = Buffer.from(restored!.data).toString();
    assert.ok(
      installed === Buffer.from(dataOf1).toString() || installed === Buffer.from(dataOf2).toString(),
      `server 3 installed ${JSON.stringify(installed)}, a mix of two snapshots`,
    );
  });

  test('lossless transfer sends each chunk once', () => {
    const cluster = clusterWithLaggingFollower();
    const leader = cluster.get(1);
    const chunks = 4;
    leader.node.compact(leader.node.status().applied, bytes('A', chunks * CHUNK));
    cluster.stabilize();

    // The network loses nothing. One round trip to server 3 takes one tick, as it does when
    // a large chunk takes about one heartbeat interval to travel.
    const inFlight: Message[] = [];
    let chunksSent = 0;
    cluster.filter = (message) => {
      if (message.to !== 3 && message.from !== 3) return true;
      if (message.type === 'snapshot-request') chunksSent++;
      inFlight.push(message);
      return false;
    };
    for (let tick = 0; tick < 30 && cluster.get(3).restoredFrom === null; tick++) {
      leader.node.tick();
      cluster.stabilize();
      for (const message of inFlight.splice(0)) cluster.get(message.to).node.step(message);
      cluster.stabilize();
    }

    assert.notEqual(cluster.get(3).restoredFrom, null, 'server 3 installed the snapshot');
    assert.equal(chunksSent, chunks, `the leader sent ${chunksSent} chunk messages for ${chunks} chunks`);
  });
});
