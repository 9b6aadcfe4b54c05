import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { encodeSnapshotArchiveChunks } from '../src/server/snapshot/archive-format.js';
import { encodeCommand } from '../src/state/commands.js';
import { StateStore } from '../src/state/store.js';
import type { Allocation } from '../src/structs/allocation.js';
import type { Job } from '../src/structs/job.js';
import type { Node } from '../src/structs/node.js';
import { benchJob, benchNode, benchPlacement, T0 } from './fixtures.js';

/**
 * Cost of `GET /v1/operator/snapshot` on a server, without the HTTP layer: encoding the state
 * (synchronous, so the server handles no other request meanwhile) and building the archive around it
 * (SHA-256 in 1 MiB steps that yield to the event loop). The state contains ALLOCATIONS running
 * allocations, each with two task events and one signed identity.
 */
const ALLOCATIONS = 100_000;
const NODES = 100;
const JOBS = 100;
const RUNS = 5;
/**
 * Stand-in for one signed workload identity, in a JWT's three-part shape. An EdDSA JWT with
 * Signet's claims is about 440 characters.
 */
const IDENTITY = `${'h'.repeat(40)}.${'p'.repeat(310)}.${'s'.repeat(86)}`;

function allocation(job: Job, node: Node, index: number): Allocation {
  return {
    ...benchPlacement(job, node, index),
    ClientStatus: 'running',
    ClientDescription: 'Tasks are running',
    SignedIdentities: { server: IDENTITY },
    TaskStates: {
      server: {
        State: 'running',
        Failed: false,
        Restarts: 0,
        StartedAt: '2026-01-01T00:00:01.123456789Z',
        FinishedAt: '',
        Events: [
          { Type: 'Received', Time: T0, DisplayMessage: 'Task received by client', ExitCode: 0 },
          { Type: 'Started', Time: T0 + 1e9, DisplayMessage: 'Task started by client', ExitCode: 0 },
        ],
      },
    },
  };
}

function largeState(): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  const nodes = Array.from({ length: NODES }, (_, i) => benchNode(`client-${i}`, 64_000, 262_144));
  const jobs = Array.from({ length: JOBS }, (_, i) => benchJob(`job-${i}`, ALLOCATIONS / JOBS));
  const entries = [
    ...nodes.map((node) => encodeCommand({ type: 'node-register', v: 1, node })),
    ...jobs.map((job) => encodeCommand({ type: 'job-register', v: 1, job, eval: null })),
  ];
  for (const job of jobs) {
    const place = Array.from({ length: ALLOCATIONS / JOBS }, (_, i) => allocation(job, nodes[i % NODES]!, i));
    entries.push(encodeCommand({ type: 'plan-apply', v: 2, place, stop: [], evals: [], time: T0 }));
  }
  for (const data of entries) {
    const result = store.apply(store.latestIndex + 1, data);
    if (!result.ok) throw new Error(`benchmark entry rejected: ${result.message}`);
  }
  return store;
}

/**
 * Runs `work` while a timer chain measures the longest gap between two turns of the event loop,
 * which is the longest time the server could not handle anything else.
 */
async function longestPause(work: () => Promise<void>): Promise<number> {
  let longest = 0;
  let running = true;
  const watch = (async () => {
    let last = performance.now();
    while (running) {
      await yieldToEventLoop();
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }
  })();
  await work();
  running = false;
  await watch;
  return longest;
}

function summarize(timesMs: number[]): string {
  timesMs.sort((a, b) => a - b);
  return `median ${timesMs[Math.floor(timesMs.length / 2)]!.toFixed(1)} ms, worst ${timesMs.at(-1)!.toFixed(1)} ms`;
}

/** Runs each case and returns one line per case. */
export async function runSnapshotBench(): Promise<string[]> {
  const store = largeState();
  // Warm-up, left out of the figures.
  await encodeSnapshotArchiveChunks(header(store), store.snapshot());

  const encodeMs: number[] = [];
  const archiveMs: number[] = [];
  const pauseMs: number[] = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    // An apply between runs drops cached encodings, as a busy server's writes would.
    store.advanceTo(store.latestIndex + 1);
    const pause = await longestPause(async () => {
      await yieldToEventLoop();
      const started = performance.now();
      const state = store.snapshot();
      const encoded = performance.now();
      const chunks = await encodeSnapshotArchiveChunks(header(store), state);
      archiveMs.push(performance.now() - encoded);
      encodeMs.push(encoded - started);
      bytes = chunks.reduce((total, chunk) => total + chunk.byteLength, 0);
    });
    pauseMs.push(pause);
  }

  const size = `${store.allocations().length} allocations, ${(bytes / 2 ** 20).toFixed(1)} MiB archive, ${RUNS} runs`;
  return [
    `snapshot endpoint: state encode (synchronous), ${size}: ${summarize(encodeMs)}`,
    `snapshot endpoint: archive header and SHA-256 (yields every 1 MiB), ${size}: ${summarize(archiveMs)}`,
    `snapshot endpoint: longest event-loop pause, ${size}: ${summarize(pauseMs)}`,
  ];
}

function header(store: StateStore) {
  return {
    index: store.latestIndex,
    term: 2,
    membership: { voters: [1], learners: [], removed: [] },
    createdAt: new Date().toISOString(),
    signetVersion: 'bench',
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runSnapshotBench()) console.log(line);
}
