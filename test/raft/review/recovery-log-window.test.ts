import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { ClassicLevel } from 'classic-level';
import { LEVELDB_FOLDER, LevelStorage } from '../../../src/raft/storage/level.js';
import { StorageError } from '../../../src/raft/storage/storage.js';
import type { PersistBatch } from '../../../src/raft/types.js';
import { flipBit, logRecords, onlyFile } from '../robustness/fixtures/leveldb-files.js';

function batch(fields: Partial<PersistBatch>): PersistBatch {
  return { snapshot: null, truncateFrom: null, compactTo: null, entries: [], hardState: null, ...fields };
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signet-review-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('LevelDB LOG scan', () => {
  test('damage survives crash before marker', async (t) => {
    const dir = await tempDir(t);
    const storage = await LevelStorage.open(dir);
    await storage.save(batch({ hardState: { term: 1, vote: 0, commit: 0 } }));
    await storage.save(batch({ hardState: { term: 2, vote: 3, commit: 0 } }));
    await storage.close();

    const dbPath = join(dir, LEVELDB_FOLDER);
    const log = await onlyFile(dbPath, '.log');
    const records = logRecords(await readFile(log));
    const vote = records.at(-1)!;
    await flipBit(log, vote.offset + (vote.length >> 1));

    // The open that dies in the window: LevelDB recovers (dropping the vote), then the process
    // is killed before Signet reads LOG. Opening LevelDB directly simulates that open.
    const db = new ClassicLevel(dbPath, { createIfMissing: false });
    await db.open();
    await db.close();

    let loaded: unknown = null;
    try {
      const reopened = await LevelStorage.open(dir);
      try {
        loaded = (await reopened.load()).hardState;
      } finally {
        await reopened.close();
      }
    } catch (error) {
      assert.ok(error instanceof StorageError, String(error));
      assert.equal(error.code, 'STORAGE_CORRUPT');
      return;
    }
    assert.fail(
      `open succeeded and loaded hard state ${JSON.stringify(loaded)}: the vote for 3 in term 2 is forgotten`,
    );
  });
});
