import { performance } from 'node:perf_hooks';
import { bootstrapState } from '../src/raft/bootstrap.js';
import { MemoryCluster, MemoryServer } from '../test/raft/support/memory-cluster.js';
import { Prng } from '../test/sim/prng.js';

/**
 * Throughput of the consensus core alone: a 3-server cluster in one process with lossless
 * in-memory delivery and in-memory storage, so the figure is the CPU cost of the core per entry.
 */
function measureCommitThroughput(entries: number, batch: number, payloadBytes: number): string {
  const cluster = new MemoryCluster([1, 2, 3]);
  cluster.get(1).node.campaign();
  cluster.stabilize();
  const leader = cluster.get(1).node;
  const payload = new Uint8Array(payloadBytes);

  const started = performance.now();
  for (let sent = 0; sent < entries; sent += batch) {
    for (let k = 0; k < batch; k++) leader.propose(payload);
    cluster.stabilize();
    // Keep memory flat: the applied lists and durable logs would otherwise grow without bound.
    for (const server of cluster.servers.values()) {
      server.applied.length = 0;
      const status = server.node.status();
      if (status.applied - status.snapshotIndex > 20_000) {
        server.node.compact(status.applied, new Uint8Array(0));
        server.drain();
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const commit = leader.status().commit;
  return `raft-core commit: ${entries} entries of ${payloadBytes} B in batches of ${batch}, 3 servers: ${Math.round(entries / seconds)} entries/s (commit index ${commit})`;
}

/** Ticks from the leader's crash to a new leader, over many seeded elections. */
function measureElectionTicks(rounds: number): string {
  const samples: number[] = [];
  const prng = new Prng(7);
  const random = (bound: number): number => prng.int(bound);
  for (let round = 0; round < rounds; round++) {
    const ids = [1, 2, 3, 4, 5];
    const cluster = new MemoryCluster(ids);
    for (const id of ids) cluster.servers.set(id, new MemoryServer(id, { random }, bootstrapState(ids)));
    cluster.get(1).node.campaign();
    cluster.stabilize();
    cluster.servers.delete(1);
    cluster.filter = (message) => message.to !== 1;
    let ticks = 0;
    while (cluster.leaders().length === 0 && ticks < 1000) {
      cluster.tickAll(1);
      ticks++;
    }
    samples.push(ticks);
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  const p99 = samples[Math.floor(samples.length * 0.99)];
  return `raft-core election after leader crash, 5 servers, electionTicks 10: median ${median} ticks, p99 ${p99} ticks (${rounds} runs)`;
}

export function runRaftCoreBench(): string[] {
  return [measureCommitThroughput(200_000, 100, 200), measureElectionTicks(200)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of runRaftCoreBench()) console.log(line);
}
