import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MAX_TERM } from '../../src/raft/validate-message.js';
import { SnapshotArchiveError } from '../../src/server/snapshot/archive-error.js';
import { readArchiveFile } from '../../src/server/snapshot/archive-file.js';
import {
  encodeSnapshotArchive,
  MAX_ARCHIVE_INDEX,
  MAX_ARCHIVE_TERM,
} from '../../src/server/snapshot/archive-format.js';
import { archiveOf, membership, removeDir, stateWith, tempDir } from './support.js';

/** Size of the sparse files below: above the 2 GiB that fs.readFile accepts. */
const SPARSE_BYTES = 3 * 1024 ** 3;

async function archiveError(path: string): Promise<SnapshotArchiveError> {
  const err = await readArchiveFile(path).then(
    () => null,
    (caught: unknown) => caught,
  );
  assert.ok(err instanceof SnapshotArchiveError, `expected a SnapshotArchiveError, got ${String(err)}`);
  return err;
}

/** Writes `head` and extends the file with a hole to `size` bytes, which takes no disk space. */
async function writeSparse(path: string, head: Uint8Array, size: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.write(head, 0, head.length, 0);
    await handle.truncate(size);
  } finally {
    await handle.close();
  }
}

describe('snapshot archive file limits', () => {
  let dir = '';
  before(async () => {
    dir = await tempDir('archive-limits');
  });
  after(() => removeDir(dir));

  // The whole file used to be read before the magic was checked: gigabytes of memory for a
  // file of any other kind, and ERR_FS_FILE_TOO_LARGE above 2 GiB.
  test('large file of zeros rejected by its magic', async () => {
    const file = join(dir, 'zeros.bin');
    await writeSparse(file, new Uint8Array(0), SPARSE_BYTES);

    const err = await archiveError(file);

    assert.equal(err.code, 'NOT_A_SNAPSHOT');
    assert.equal(err.field, 'magic');
  });

  test('archive with a large tail rejected before its state', async () => {
    const file = join(dir, 'tail.snap');
    await writeSparse(file, await archiveOf(stateWith(['web']), 2, membership([7])), SPARSE_BYTES);

    const err = await archiveError(file);

    assert.equal(err.code, 'CORRUPT');
    assert.equal(err.field, 'stateSize');
  });

  // Recovery adds one to the term and the first election one more; above MAX_TERM peers drop
  // every message, so a recovered server would never lead.
  test('header term limit', async () => {
    for (const [term, accepted] of [
      [MAX_ARCHIVE_TERM, true],
      [MAX_ARCHIVE_TERM + 1, false],
      [MAX_TERM + 5, false],
    ] as const) {
      const file = join(dir, `term-${term}.snap`);
      await writeFile(file, await archiveOf(stateWith(['web']), term, membership([7])));
      if (accepted) {
        const checked = await readArchiveFile(file);
        assert.equal(checked.archive.header.term, term);
        continue;
      }
      const err = await archiveError(file);
      assert.equal(err.code, 'CORRUPT', `term ${term}`);
      assert.equal(err.field, 'term', `term ${term}`);
    }
  });

  test('header index limit', async () => {
    const file = join(dir, 'index.snap');
    const store = stateWith(['web']);
    const source = {
      index: MAX_ARCHIVE_INDEX + 1,
      term: 2,
      membership: membership([7]),
      createdAt: '2026-12-04T10:00:00.000Z',
      signetVersion: '0.1.0',
    };
    await writeFile(file, await encodeSnapshotArchive(source, store.snapshot()));

    const err = await archiveError(file);

    assert.equal(err.code, 'CORRUPT');
    assert.equal(err.field, 'index');
  });
});
