import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { LevelStorage } from '../src/raft/storage/level.js';
import type { Entry, PersistBatch } from '../src/raft/types.js';

/**
 * Latency of LevelStorage.save, each save synced to disk, on a fresh data folder in the system's
 * temporary directory. Each batch appends command entries of ENTRY_BYTES bytes of data and
 * nothing else. Saves run one at a time, as the driver issues them.
 */
const ENTRY_BYTES = 200;
/** Saves before measuring starts, so that JIT warm-up and LevelDB's first files are left out. */
const WARMUP_SAVES = 50;

async function measureSave(entriesPerBatch: number, saves: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-bench-storage-'));
  const storage = await LevelStorage.open(dir);
  try {
    const data = new Uint8Array(ENTRY_BYTES).fill(0x61);
    let nextIndex = 1;
    const nextBatch = (): PersistBatch => {
      const entries: Entry[] = [];
      for (let k = 0; k < entriesPerBatch; k++)
        entries.push({ index: nextIndex++, term: 1, kind: 'command', data });
      return { snapshot: null, truncateFrom: null, compactTo: null, entries, hardState: null };
    };

    for (let i = 0; i < WARMUP_SAVES; i++) await storage.save(nextBatch());

    const latenciesMs: number[] = [];
    const started = performance.now();
    for (let i = 0; i < saves; i++) {
      const batch = nextBatch();
      const before = performance.now();
      await storage.save(batch);
      latenciesMs.push(performance.now() - before);
    }
    const seconds = (performance.now() - started) / 1000;

    latenciesMs.sort((a, b) => a - b);
    const p50 = latenciesMs[Math.floor(saves * 0.5)]!;
    const p99 = latenciesMs[Math.floor(saves * 0.99)]!;
    const entriesPerSecond = Math.round((saves * entriesPerBatch) / seconds);
    const label = entriesPerBatch === 1 ? '1 entry' : `${entriesPerBatch} entries`;
    return (
      `storage save: ${label} of ${ENTRY_BYTES} B per synced batch, ${saves} saves: ` +
      `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, ${entriesPerSecond} entries/s`
    );
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs each case on its own fresh LevelStorage and returns one line per case. */
export async function runStorageBench(): Promise<string[]> {
  return [await measureSave(1, 2000), await measureSave(100, 500)];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runStorageBench()) console.log(line);
}
