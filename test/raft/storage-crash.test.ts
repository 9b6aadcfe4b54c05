import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { LevelStorage } from '../../src/raft/storage/level.js';
import type { DurableState } from '../../src/raft/types.js';
import {
  BatchGenerator,
  CRASH_GENERATOR_OPTIONS,
  fingerprint,
  Random,
  WRITER_MAX_IN_FLIGHT,
} from './fixtures/batch-generator.js';

/**
 * Crash test of LevelStorage with a real writer process, killed with SIGKILL at random moments.
 * Set STORAGE_CRASH_SEED to replay a failing run (the writer's batches replay exactly, the kill
 * moments approximately) and STORAGE_CRASH_ROUNDS to change the number of kills.
 *
 * NOTE: SIGKILL ends the process but keeps the kernel's page cache, so this checks the atomicity
 * and order of writes, not that they were fsynced. Power loss is not simulated.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WRITER = fileURLToPath(new URL('./fixtures/storage-writer.ts', import.meta.url));
const ROUNDS = Number(process.env.STORAGE_CRASH_ROUNDS ?? 12);
/** Maximum wait in ms for the writer to reach the moment chosen for the kill. */
const TRIGGER_TIMEOUT_MS = 30_000;

type KillPlan =
  | { readonly kind: 'after-acks'; readonly acks: number }
  | { readonly kind: 'during-snapshot'; readonly snapshots: number; readonly delayMs: number }
  | { readonly kind: 'after-time'; readonly delayMs: number };

test('acknowledged batches survive SIGKILL', { timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.STORAGE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`STORAGE_CRASH_SEED=${seed}`);
  const random = new Random(seed);
  const dir = await mkdtemp(join(tmpdir(), 'signet-storage-crash-'));
  const dataDir = join(dir, 'data');
  const leftovers: string[] = [];

  try {
    let start: DurableState = { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: null, entries: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const writerSeed = random.int(2 ** 31);
      const plan = chooseKillPlan(random, round);
      try {
        const run = await runWriterUntilKilled(dataDir, writerSeed, plan);
        leftovers.push(...(await snapshotLeftovers(dataDir)).map((name) => `round ${round}: ${name}`));
        start = await checkRecoveredState(dataDir, start, writerSeed, run);
      } catch (err) {
        throw new Error(
          `storage crash test failed; replay with STORAGE_CRASH_SEED=${seed} ` +
            `(round ${round}, writer seed ${writerSeed}, kill ${JSON.stringify(plan)}): ${String(err)}`,
          { cause: err },
        );
      }
    }
    t.diagnostic(`snapshot files left by kills, removed on open: ${leftovers.join(', ') || 'none'}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function chooseKillPlan(random: Random, round: number): KillPlan {
  switch (round % 4) {
    case 0:
      return { kind: 'after-acks', acks: 1 + random.int(400) };
    case 1:
      return { kind: 'after-time', delayMs: 20 + random.int(800) };
    default:
      return { kind: 'during-snapshot', snapshots: 1 + random.int(4), delayMs: random.int(4) };
  }
}

interface WriterRun {
  readonly readyFingerprint: string;
  /** Fingerprint of the expected state after each acknowledged batch, in order. */
  readonly acks: readonly string[];
}

/** Starts the writer, SIGKILLs it at the moment that `plan` picks, and returns what it printed. */
async function runWriterUntilKilled(dataDir: string, writerSeed: number, plan: KillPlan): Promise<WriterRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(writerSeed)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  const lines: string[] = [];
  const triggered = watchForTrigger(child, lines, plan);
  const outcome = await Promise.race([
    triggered.then(() => 'triggered' as const),
    exited.then(() => 'exited' as const),
    deadline(TRIGGER_TIMEOUT_MS),
  ]);
  if (outcome !== 'triggered') child.kill('SIGKILL');
  const { code, signal } = await exited;
  assert.equal(
    outcome,
    'triggered',
    `writer did not reach the kill moment: ${outcome}, exit ${code}, ${stderr}`,
  );
  assert.equal(signal, 'SIGKILL', `writer exited by itself with code ${code}: ${stderr}`);

  const [ready, ...rest] = lines;
  assert.match(ready ?? '', /^ready /, `writer printed no ready line: ${stderr}`);
  const acks: string[] = [];
  for (const line of rest) {
    const [kind, n, expected] = line.split(' ');
    if (kind !== 'ack') continue;
    assert.equal(Number(n), acks.length, `ack lines out of order at "${line}"`);
    acks.push(expected!);
  }
  return { readyFingerprint: ready!.slice('ready '.length), acks };
}

/** Collects stdout lines into `lines` and kills the child once `plan`'s moment arrives. */
function watchForTrigger(child: ChildProcess, lines: string[], plan: KillPlan): Promise<void> {
  return new Promise((resolve) => {
    let partial = '';
    let acks = 0;
    let snapshots = 0;
    /** Number of the batch whose snapshot write the kill aims at, once printed. */
    let snapshotBatch = -1;
    let fired = false;

    const kill = (delayMs: number) => {
      if (fired) return;
      fired = true;
      const act = () => {
        child.kill('SIGKILL');
        resolve();
      };
      if (delayMs === 0) act();
      else setTimeout(act, delayMs);
    };

    const onLine = (line: string) => {
      const [kind, number] = line.split(' ');
      const n = Number(number);
      if (kind === 'ready' && plan.kind === 'after-time') kill(plan.delayMs);
      if (kind === 'ack') acks++;
      if (plan.kind === 'after-acks' && acks >= plan.acks) kill(0);
      if (plan.kind !== 'during-snapshot') return;

      if (kind === 'snapshot' && ++snapshots === plan.snapshots) snapshotBatch = n;
      // The snapshot batch starts as soon as the save queued before it is acknowledged.
      if (snapshotBatch >= 0 && acks === snapshotBatch) kill(plan.delayMs);
    };

    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        onLine(line);
      }
    });
  });
}

/**
 * Reopens the data folder and checks that it holds exactly the state after batch n of the
 * writer's sequence, for some n between the number of acknowledged batches and that number plus
 * the saves that were in flight. Returns the recovered state, the start of the next round.
 */
async function checkRecoveredState(
  dataDir: string,
  start: DurableState,
  writerSeed: number,
  run: WriterRun,
): Promise<DurableState> {
  assert.equal(
    run.readyFingerprint,
    fingerprint(start),
    'writer loaded another state than the last recovery',
  );

  const storage = await LevelStorage.open(dataDir);
  let recovered: DurableState;
  try {
    recovered = await storage.load();
  } finally {
    await storage.close();
  }
  assert.deepEqual(
    await snapshotLeftovers(dataDir),
    [],
    'open left temporary or unreferenced snapshot files',
  );
  checkContiguous(recovered);

  const generator = new BatchGenerator(start, writerSeed, CRASH_GENERATOR_OPTIONS);
  for (const [n, expected] of run.acks.entries()) {
    generator.next();
    assert.equal(generator.fingerprint(), expected, `replayed batch ${n} differs from the writer's`);
  }

  const acknowledged = generator.state();
  if (isDeepStrictEqual(recovered, acknowledged)) return recovered;
  for (let extra = 1; extra <= WRITER_MAX_IN_FLIGHT; extra++) {
    generator.next();
    if (isDeepStrictEqual(recovered, generator.state())) return recovered;
  }
  assert.fail(
    `recovered state matches no state from batch ${run.acks.length} (acknowledged) to batch ` +
      `${run.acks.length + WRITER_MAX_IN_FLIGHT}; against the acknowledged state: ` +
      describeDifference(recovered, acknowledged),
  );
}

function checkContiguous(state: DurableState): void {
  const snapshotIndex = state.snapshot?.meta.index ?? 0;
  const first = state.entries[0]?.index;
  if (first === undefined) return;
  // Entries kept below the snapshot are allowed, but the log must reach the snapshot without a gap.
  assert.ok(
    first <= snapshotIndex + 1,
    `log starts at ${first}, after a gap above snapshot ${snapshotIndex}`,
  );
  assert.ok(state.entries.at(-1)!.index >= snapshotIndex, `log ends below snapshot ${snapshotIndex}`);
  for (const [i, entry] of state.entries.entries()) {
    assert.equal(
      entry.index,
      first + i,
      `log is not contiguous at position ${i} (snapshot ${snapshotIndex})`,
    );
  }
}

function describeDifference(actual: DurableState, expected: DurableState): string {
  if (!isDeepStrictEqual(actual.hardState, expected.hardState)) {
    return `hard state ${JSON.stringify(actual.hardState)}, expected ${JSON.stringify(expected.hardState)}`;
  }
  if (!isDeepStrictEqual(actual.snapshot?.meta, expected.snapshot?.meta)) {
    return `snapshot ${JSON.stringify(actual.snapshot?.meta)}, expected ${JSON.stringify(expected.snapshot?.meta)}`;
  }
  if (!isDeepStrictEqual(actual.snapshot?.data, expected.snapshot?.data)) return 'snapshot data differs';
  const span = (state: DurableState) => `${state.entries[0]?.index}..${state.entries.at(-1)?.index}`;
  if (actual.entries.length !== expected.entries.length) {
    return `log holds ${span(actual)}, expected ${span(expected)}`;
  }
  const i = actual.entries.findIndex((entry, i) => !isDeepStrictEqual(entry, expected.entries[i]));
  return `entry ${actual.entries[i]?.index} differs (term ${actual.entries[i]?.term}, expected ${expected.entries[i]?.term})`;
}

/** Snapshot files that only a crash leaves: temporary files, or more than one snapshot. */
async function snapshotLeftovers(dataDir: string): Promise<string[]> {
  const names = (await readdir(dataDir)).filter((name) => name.startsWith('snapshot-')).sort();
  const temporary = names.filter((name) => name.endsWith('.tmp'));
  const complete = names.filter((name) => name.endsWith('.snap'));
  return [...temporary, ...complete.slice(0, -1)];
}

function deadline(ms: number): Promise<'timed out'> {
  return new Promise((resolve) => setTimeout(() => resolve('timed out'), ms).unref());
}
