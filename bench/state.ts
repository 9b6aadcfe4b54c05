import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { encodeCommand } from '../src/state/commands.js';
import { StateStore } from '../src/state/store.js';
import type { Allocation } from '../src/structs/allocation.js';
import type { Job } from '../src/structs/job.js';
import type { Node } from '../src/structs/node.js';
import { benchJob, benchNode, benchPlacement, T0 } from './fixtures.js';

/**
 * Cost of the replicated state machine alone, in one process. It applies pre-encoded namespace
 * upserts (decode, validate, commit), then snapshots and restores the resulting tables. Then it
 * applies one plan-apply entry of many allocations, and snapshots and restores a state with many
 * more. The encoding of commands is left out because the leader pays it once while every server
 * applies.
 */
const NAMESPACES = 10_000;
/** Snapshot and restore runs per figure; the median and the worst are printed. */
const RUNS = 20;
/** Allocations in the plan-apply entry, and the runs of it (each on a fresh store). */
const PLAN_ALLOCS = 10_000;
const PLAN_RUNS = 10;
/** Allocations in the large state, spread over NODES nodes and JOBS jobs, and its snapshot runs. */
const STATE_ALLOCS = 100_000;
const NODES = 100;
const JOBS = 100;
const LARGE_RUNS = 5;

function namespaceUpserts(count: number, description: string): Uint8Array[] {
  const entries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const namespace = {
      Name: `ns-${i}`,
      Description: description,
      Meta: { team: `team-${i % 50}`, tier: 'web' },
    };
    entries.push(encodeCommand({ type: 'namespace-upsert', v: 1, namespace }));
  }
  return entries;
}

/** Applies `entries` after `store.latestIndex` and returns entries per second. */
function applyAll(store: StateStore, entries: readonly Uint8Array[]): number {
  const started = performance.now();
  for (const data of entries) {
    const result = store.apply(store.latestIndex + 1, data);
    if (!result.ok) throw new Error(`benchmark entry rejected: ${result.message}`);
  }
  return Math.round(entries.length / ((performance.now() - started) / 1000));
}

function summarize(timesMs: number[]): string {
  timesMs.sort((a, b) => a - b);
  return `median ${timesMs[Math.floor(timesMs.length / 2)]!.toFixed(2)} ms, worst ${timesMs.at(-1)!.toFixed(2)} ms`;
}

function node(i: number): Node {
  return benchNode(`client-${i}`, 64_000, 262_144);
}

function job(i: number): Job {
  return benchJob(`job-${i}`, STATE_ALLOCS / JOBS);
}

/** Builds an allocation as it looks once its client reports it running: one task, two events. */
export function allocation(jobId: string, index: number, nodes: readonly Node[]): Allocation {
  return {
    ...benchPlacement(job(0), nodes[index % nodes.length]!, index),
    Name: `${jobId}.web[${index}]`,
    JobID: jobId,
    JobVersion: 3,
    ClientStatus: 'running',
    ClientDescription: 'Tasks are running',
    TaskStates: {
      server: {
        State: 'running',
        Failed: false,
        Restarts: 0,
        StartedAt: '2026-01-01T00:00:01.123456789Z',
        FinishedAt: '',
        Events: [
          { Type: 'Received', Time: T0, DisplayMessage: 'Task received by client', ExitCode: 0 },
          {
            Type: 'Started',
            Time: T0 + 1_000_000_000,
            DisplayMessage: 'Task started by client',
            ExitCode: 0,
          },
        ],
      },
    },
  };
}

/** Returns a store with `nodes` registered and the jobs job-0 to job-(JOBS-1). */
function storeWithNodesAndJobs(nodes: readonly Node[]): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  const entries = nodes.map((n) => encodeCommand({ type: 'node-register', v: 1, node: n }));
  for (let i = 0; i < JOBS; i++)
    entries.push(encodeCommand({ type: 'job-register', v: 1, job: job(i), eval: null }));
  applyAll(store, entries);
  return store;
}

function planEntry(place: Allocation[]): Uint8Array {
  return encodeCommand({ type: 'plan-apply', v: 2, place, stop: [], evals: [], time: T0 });
}

/** Measures one plan-apply entry of PLAN_ALLOCS allocations of one job, each run on a fresh store. */
function benchPlanApply(nodes: readonly Node[]): string {
  const plan = planEntry(Array.from({ length: PLAN_ALLOCS }, (_, i) => allocation('job-0', i, nodes)));
  const timesMs: number[] = [];
  for (let run = 0; run < PLAN_RUNS + 1; run++) {
    const store = storeWithNodesAndJobs(nodes);
    const started = performance.now();
    applyAll(store, [plan]);
    // The first run is a warm-up, left out of the figures.
    if (run > 0) timesMs.push(performance.now() - started);
  }
  return `state apply: 1 plan-apply of ${PLAN_ALLOCS} allocations, ${plan.length} bytes, ${PLAN_RUNS} runs: ${summarize(timesMs)}`;
}

/** Measures snapshot and restore of a state of STATE_ALLOCS allocations on NODES nodes. */
function benchLargeState(nodes: readonly Node[]): string[] {
  const store = storeWithNodesAndJobs(nodes);
  const perJob = STATE_ALLOCS / JOBS;
  for (let first = 0; first < JOBS; first += 10) {
    const place: Allocation[] = [];
    for (let j = first; j < first + 10; j++) {
      for (let i = 0; i < perJob; i++) place.push(allocation(`job-${j}`, i, nodes));
    }
    applyAll(store, [planEntry(place)]);
  }

  const snapshotMs: number[] = [];
  let bytes: Uint8Array = new Uint8Array(0);
  for (let run = 0; run < LARGE_RUNS; run++) {
    store.advanceTo(store.latestIndex + 1);
    const started = performance.now();
    bytes = store.snapshot();
    snapshotMs.push(performance.now() - started);
  }
  const restoreMs: number[] = [];
  for (let run = 0; run < LARGE_RUNS; run++) {
    const target = new StateStore();
    const started = performance.now();
    target.restore(bytes);
    restoreMs.push(performance.now() - started);
  }

  const total = store.allocations().length;
  return [
    `state snapshot: ${total} allocations on ${nodes.length} nodes, ${bytes.length} bytes, ${LARGE_RUNS} runs: ${summarize(snapshotMs)}`,
    `state restore: ${total} allocations on ${nodes.length} nodes, ${LARGE_RUNS} runs: ${summarize(restoreMs)}`,
  ];
}

/** Runs each case and returns one line per case. */
export function runStateBench(): string[] {
  const creates = namespaceUpserts(NAMESPACES, 'created by the benchmark');
  const updates = namespaceUpserts(NAMESPACES, 'updated by the benchmark');

  // Warm-up on a throwaway store, so that JIT compilation is left out of the figures.
  const warm = new StateStore();
  warm.advanceTo(1);
  applyAll(warm, creates);
  warm.restore(warm.snapshot());

  const store = new StateStore();
  store.advanceTo(1);
  const createRate = applyAll(store, creates);
  const updateRate = applyAll(store, updates);

  const snapshotMs: number[] = [];
  let bytes: Uint8Array = new Uint8Array(0);
  for (let i = 0; i < RUNS; i++) {
    // An apply between runs drops the cached sorted list, as a busy server would.
    applyAll(store, [creates[i]!]);
    const started = performance.now();
    bytes = store.snapshot();
    snapshotMs.push(performance.now() - started);
  }

  const restoreMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const target = new StateStore();
    const started = performance.now();
    target.restore(bytes);
    restoreMs.push(performance.now() - started);
  }

  const total = store.namespaces().length;
  const nodes = Array.from({ length: NODES }, (_, i) => node(i));
  return [
    `state apply: ${NAMESPACES} namespace creates: ${createRate} entries/s`,
    `state apply: ${NAMESPACES} namespace updates: ${updateRate} entries/s`,
    `state snapshot: ${total} namespaces, ${bytes.length} bytes, ${RUNS} runs: ${summarize(snapshotMs)}`,
    `state restore: ${total} namespaces, ${RUNS} runs: ${summarize(restoreMs)}`,
    benchPlanApply(nodes),
    ...benchLargeState(nodes),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of runStateBench()) console.log(line);
}
