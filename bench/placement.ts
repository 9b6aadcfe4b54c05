import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { httpRequest, requestJson } from '../cluster/http-client.js';
import { Cluster } from '../cluster/launcher.js';
import { done, pending, waitFor } from '../cluster/wait.js';
import type { Allocation } from '../src/structs/allocation.js';
import type { Evaluation } from '../src/structs/evaluation.js';
import { SimulatedFleet } from '../test/support/simulated-nodes.js';
import { cpuTimeMs, sumCpuTimeMs } from './load/process-cpu.js';

/**
 * Allocations placed and committed per second by a 3-server cluster (separate processes, fsync
 * on) with 100 simulated client nodes, each on its own websocket connection, in this process.
 * One job of ALLOCS small mock tasks is registered.
 *
 * The clock runs from the registration request to the leader's own timestamp of the moment it had
 * applied the job's last plan entry. That timestamp is the ModifyTime the leader's scheduler
 * worker stamps on the evaluation when it records the outcome, and a worker does so only after
 * every plan entry of the evaluation is committed and applied on the leader. Both ends read the
 * same host's wall clock. While the job is placed, this process sends the leader one blocking
 * query on the job's evaluations, which wakes only when an evaluation changes. It never lists the
 * allocations, so it adds no load that a real cluster would not have. Once the clock has stopped,
 * one listing checks that every allocation exists with its identity.
 */
const NODES = 100;
const ALLOCS = 5_000;
const JOB_ID = 'placement-bench';
/** Maximum wait of one blocking query, in Nomad's duration syntax. */
const BLOCKING_WAIT = '10s';

export interface PlacementSizes {
  readonly nodes: number;
  readonly allocs: number;
}

export interface PlacementTimes {
  readonly sizes: PlacementSizes;
  readonly servers: number;
  /** Unix time of the registration request in ms, to line up server logs and profiles with the run. */
  readonly startedAtMs: number;
  /** From the registration request until the leader had applied the job's last plan entry. */
  readonly placedMs: number;
  /** Raft index of the evaluation's outcome, one entry after the last placement. */
  readonly evalModifyIndex: number;
  /** From the registration request until every node has reported its allocations running. */
  readonly runningMs: number;
  /**
   * CPU time (user + system) that the leader process used from the registration request until the
   * evaluation's outcome was read, in ms, or null where /proc is missing. It moves far less than
   * the wall-clock rate when other processes load the machine.
   */
  readonly leaderCpuMs: number | null;
  /** The same for the two followers together. */
  readonly followersCpuMs: number | null;
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
        ID: JOB_ID,
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
    const followers = cluster.servers().filter((server) => server !== leader);
    const cpuBefore = { leader: cpuTimeMs(leader.pid), followers: sumCpuTimeMs(followers.map((f) => f.pid)) };
    const startedWallMs = Date.now();
    const started = performance.now();
    const registered = await requestJson<{ EvalID: string; EvalCreateIndex: number }>(
      leader.httpAddr,
      'PUT',
      '/v1/jobs',
      { body: job, timeoutMs: 30_000 },
    );

    const evaluation = await waitForOutcome(leader.httpAddr, registered.EvalID, registered.EvalCreateIndex);
    const leaderCpuMs = difference(cpuTimeMs(leader.pid), cpuBefore.leader);
    const followersCpuMs = difference(sumCpuTimeMs(followers.map((f) => f.pid)), cpuBefore.followers);
    const placedMs = evaluation.ModifyTime / 1e6 - startedWallMs;
    progress(`evaluation ${evaluation.Status} at index ${evaluation.ModifyIndex}, ${placedMs.toFixed(0)} ms`);
    await checkPlaced(leader.httpAddr, sizes.allocs);

    await waitFor(
      'every allocation reported by its node',
      { timeoutMs: 120_000, intervalMs: 20 },
      async () => {
        const running = fleet?.reportedStatuses().running ?? 0;
        return running >= sizes.allocs ? done(true) : pending(`${running} reported running`);
      },
    );
    await waitForAllRunning(leader.httpAddr, sizes.allocs);
    const runningMs = performance.now() - started;
    return {
      sizes,
      servers: 3,
      startedAtMs: startedWallMs,
      placedMs,
      evalModifyIndex: evaluation.ModifyIndex,
      runningMs,
      leaderCpuMs,
      followersCpuMs,
    };
  } finally {
    await fleet?.stop();
    await cluster.stop();
  }
}

/**
 * Waits with blocking queries on the job's evaluations until `evalId` leaves `pending`, and
 * returns it. Raises unless it completed with nothing left to place.
 */
async function waitForOutcome(address: string, evalId: string, createIndex: number): Promise<Evaluation> {
  const deadline = performance.now() + 120_000;
  let index = Math.max(createIndex - 1, 0);
  while (performance.now() < deadline) {
    const response = await httpRequest(
      address,
      'GET',
      `/v1/job/${JOB_ID}/evaluations?index=${index}&wait=${BLOCKING_WAIT}`,
      { timeoutMs: 30_000 },
    );
    if (response.status !== 200) {
      throw new Error(
        `listing the evaluations of ${JOB_ID} failed with status ${response.status}: ${response.body}`,
      );
    }
    const evaluation = (JSON.parse(response.body) as Evaluation[]).find(
      (candidate) => candidate.ID === evalId,
    );
    if (evaluation !== undefined && evaluation.Status !== 'pending') {
      const queued = Object.values(evaluation.QueuedAllocations).reduce((sum, count) => sum + count, 0);
      if (evaluation.Status !== 'complete' || queued > 0) {
        throw new Error(
          `evaluation ${evalId} ended ${evaluation.Status} with ${queued} allocations not placed: ${evaluation.StatusDescription}`,
        );
      }
      return evaluation;
    }
    index = Math.max(index, Number(response.headers['x-nomad-index'] ?? index));
  }
  throw new Error(`timed out after 120 s waiting for evaluation ${evalId} to complete`);
}

/**
 * Lists the job's allocations once and checks their count, and that the newest one was signed. The
 * HTTP API leaves out the tokens themselves, so SigningKeyID is what shows they were signed.
 */
async function checkPlaced(address: string, expected: number): Promise<void> {
  const stubs = await requestJson<Allocation[]>(address, 'GET', `/v1/job/${JOB_ID}/allocations`, {
    timeoutMs: 30_000,
  });
  if (stubs.length !== expected) {
    throw new Error(
      `expected ${expected} allocations of ${JOB_ID} once its evaluation completed, found ${stubs.length}`,
    );
  }
  const last = stubs.reduce((newest, stub) => (stub.CreateIndex > newest.CreateIndex ? stub : newest));
  const alloc = await requestJson<Omit<Allocation, 'SignedIdentities'>>(
    address,
    'GET',
    `/v1/allocation/${last.ID}`,
  );
  if (alloc.SigningKeyID === '') {
    throw new Error(`allocation ${alloc.ID} was committed without a signed workload identity`);
  }
}

/** Waits with blocking queries on the job's allocations until the servers list every one running. */
async function waitForAllRunning(address: string, expected: number): Promise<void> {
  const deadline = performance.now() + 120_000;
  let index = 0;
  while (performance.now() < deadline) {
    const response = await httpRequest(
      address,
      'GET',
      `/v1/job/${JOB_ID}/allocations?index=${index}&wait=${BLOCKING_WAIT}`,
      { timeoutMs: 30_000 },
    );
    if (response.status !== 200) {
      throw new Error(
        `listing the allocations of ${JOB_ID} failed with status ${response.status}: ${response.body}`,
      );
    }
    const stubs = JSON.parse(response.body) as Allocation[];
    const running = stubs.filter((stub) => stub.ClientStatus === 'running').length;
    if (running === expected) return;
    index = Math.max(index, Number(response.headers['x-nomad-index'] ?? index));
  }
  throw new Error(`timed out after 120 s waiting for ${expected} allocations of ${JOB_ID} to run`);
}

function difference(after: number | null, before: number | null): number | null {
  return after === null || before === null ? null : after - before;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const line of await runPlacementBench()) console.log(line);
}
