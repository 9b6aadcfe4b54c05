import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { encodeCommand } from '../src/state/commands.js';
import { StateStore } from '../src/state/store.js';

/**
 * Cost of the replicated state machine alone, in one process: applying pre-encoded namespace
 * upserts (decode, validate, commit), then snapshot and restore of the resulting tables. The
 * encoding of commands is left out because the leader pays it once while every server applies.
 */
const NAMESPACES = 10_000;
/** Snapshot and restore runs per figure; the median and the worst are printed. */
const RUNS = 20;

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
  return [
    `state apply: ${NAMESPACES} namespace creates: ${createRate} entries/s`,
    `state apply: ${NAMESPACES} namespace updates: ${updateRate} entries/s`,
    `state snapshot: ${total} namespaces, ${bytes.length} bytes, ${RUNS} runs: ${summarize(snapshotMs)}`,
    `state restore: ${total} namespaces, ${RUNS} runs: ${summarize(restoreMs)}`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of runStateBench()) console.log(line);
}
