import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { requestJson } from '../cluster/http-client.js';
import { Cluster } from '../cluster/launcher.js';
import { done, pending, waitFor } from '../cluster/wait.js';
import type { Allocation } from '../src/structs/allocation.js';
import { SimulatedFleet } from '../test/support/simulated-nodes.js';

/**
 * Allocations placed and committed per second by a 3-server cluster (separate processes, fsync
 * on) with 100 simulated client nodes, each on its own websocket connection, in this process.
 * One job of ALLOCS small mock tasks is registered. The clock runs from the registration request
 * until every allocation is committed and readable through the HTTP API, and then until every node
 * has reported its allocations running.
 */
const NODES = 100;
const ALLOCS = 5_000;

export interface PlacementSizes {
  readonly nodes: number;
  readonly allocs: number;
}

export interface PlacementTimes {
  readonly sizes: PlacementSizes;
  readonly servers: number;
  /** From the registration request until every allocation is readable through the HTTP API. */
  readonly placedMs: number;
  /** From the registration request until every node has reported its allocations running. */
  readonly runningMs: number;
}

export async function runPlacementBench(): Promise<string[]> {
  const { placedMs, runningMs } = await measurePlacement({ nodes: NODES, allocs: ALLOCS });
  return [
    `placement: ${ALLOCS} allocations on ${NODES} simulated nodes, 3 servers: committed in ${placedMs.toFixed(0)} ms (${Math.round((ALLOCS / placedMs) * 1000)} allocations/s); all reported running after ${runningMs.toFixed(0)} ms`,
  ];
}

export async function measurePlacement(
  sizes: PlacementSizes,
  progress: (message: string) => void = () => {},
): Promise<PlacementTimes> {
  const cluster = await Cluster.start({ servers: 3, startTimeoutMs: 90_000, logLevel: 'warn' });
  let fleet: SimulatedFleet | null = null;
  try {
    const leader = await cluster.waitForLeader(60_000);
    progress(`3 servers up, starting ${sizes.nodes} simulated nodes`);
    fleet = await SimulatedFleet.start({
      count: sizes.nodes,
      servers: cluster.servers().map((server) => server.rpcAddr),
      logger: pino({ level: 'silent' }),
      resources: { CPU: 4000, MemoryMB: 8192 },
    });
    await waitFor(`${sizes.nodes} nodes`, { timeoutMs: 60_000, intervalMs: 20 }, async () => {
      const nodes = await requestJson<unknown[]>(leader.httpAddr, 'GET', '/v1/nodes');
      return nodes.length === sizes.nodes ? done(true) : pending(`${nodes.length} nodes`);
    });
    const job = {
      Job: {
        ID: 'placement-bench',
        Type: 'service',
        TaskGroups: [
          {
            Name: 'g',
            Count: sizes.allocs,
            Tasks: [{ Name: 't', Driver: 'mock', Config: {}, Resources: { CPU: 20, MemoryMB: 20 } }],
          },
        ],
      },
    };
    progress(`registering a job of ${sizes.allocs} allocations`);
    const started = performance.now();
    await requestJson(leader.httpAddr, 'PUT', '/v1/jobs', { body: job, timeoutMs: 30_000 });
    const allocs = () =>
      requestJson<Allocation[]>(leader.httpAddr, 'GET', '/v1/job/placement-bench/allocations?stale', {
        timeoutMs: 30_000,
      });
    await waitFor(`${sizes.allocs} allocations`, { timeoutMs: 120_000, intervalMs: 20 }, async () => {
      const placed = (await allocs()).length;
      return placed === sizes.allocs ? done(true) : pending(`${placed} placed`);
    });
    const placedMs = performance.now() - started;
    await waitFor('every allocation reported running', { timeoutMs: 120_000, intervalMs: 20 }, async () =>
      (await allocs()).every((alloc) => alloc.ClientStatus === 'running')
        ? done(true)
        : pending('not all running'),
    );
    const runningMs = performance.now() - started;
    return { sizes, servers: 3, placedMs, runningMs };
  } finally {
    await fleet?.stop();
    await cluster.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const line of await runPlacementBench()) console.log(line);
}
