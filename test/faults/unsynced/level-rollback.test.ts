import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ClassicLevel } from 'classic-level';
import { shimBuildProblem } from '../../../cluster/faults/unsynced/build-shim.js';
import { rollBackToSynced } from '../../../cluster/faults/unsynced/rollback.js';
import { parseJournal, replayJournal } from '../../../cluster/faults/unsynced/sync-journal.js';
import { done, pending, waitFor } from '../../../cluster/wait.js';
import { exitOf, makeShimFolder, type ShimFolder, shimEnv } from './shim-fixture.js';

const WRITER = fileURLToPath(new URL('./fixtures/level-writer.ts', import.meta.url));
const GROUP_SIZE = 10;
const problem = await shimBuildProblem();

/**
 * Runs the writer on `dbPath` under the shim until it printed that every write resolved, then
 * kills it with SIGKILL, which keeps what it wrote in the page cache.
 */
async function writeAndKill(shim: ShimFolder, dbPath: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dbPath, String(GROUP_SIZE)], {
    env: shimEnv(shim),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = exitOf(child);
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  try {
    await waitFor('the writer to print "written"', { timeoutMs: 30_000, intervalMs: 20 }, async () => {
      if (child.exitCode !== null)
        throw new Error(`the writer exited with ${child.exitCode}: ${(await exited).stderr}`);
      return stdout.includes('written\n') ? done(undefined) : pending(stdout);
    });
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Returns which of the writer's keys the database at `dbPath` holds, by group. */
async function keysByGroup(dbPath: string): Promise<Record<string, number>> {
  const db = new ClassicLevel<string, string>(dbPath, { createIfMissing: false });
  await db.open();
  try {
    const counts: Record<string, number> = { before: 0, synced: 0, after: 0 };
    for await (const key of db.keys()) {
      const group = key.split('-')[0]!;
      counts[group] = (counts[group] ?? 0) + 1;
    }
    return counts;
  } finally {
    await db.close();
  }
}

describe('LevelDB after a rollback', { skip: problem ?? false, timeout: 120_000 }, () => {
  let shim: ShimFolder;
  before(async () => {
    shim = await makeShimFolder();
    await mkdir(shim.root);
  });
  after(async () => {
    await shim.remove();
  });

  test('SIGKILL alone keeps unsynced writes', async () => {
    const dbPath = join(shim.root, 'kill-only');
    await writeAndKill(shim, dbPath);
    assert.deepEqual(await keysByGroup(dbPath), {
      before: GROUP_SIZE,
      synced: GROUP_SIZE,
      after: GROUP_SIZE,
    });
  });

  test('keeps synced writes, loses the rest', async () => {
    const dbPath = join(shim.root, 'rolled-back');
    await writeAndKill(shim, dbPath);
    const journal = await readFile(shim.journal, 'utf8');
    const synced = replayJournal(parseJournal(journal, shim.journal));

    const summary = await rollBackToSynced(dbPath, synced);

    assert.ok(summary.droppedBytes > 0, `nothing dropped: ${JSON.stringify(summary)}`);
    const counts = await keysByGroup(dbPath);
    // An unsynced write before a synced one is durable, because the sync flushes the whole log.
    assert.equal(counts.before, GROUP_SIZE, 'unsynced writes before the last sync');
    assert.equal(counts.synced, GROUP_SIZE, 'synced writes');
    assert.equal(counts.after, 0, 'unsynced writes after the last sync');
  });
});
