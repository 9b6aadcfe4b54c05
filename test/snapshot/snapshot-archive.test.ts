import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { SnapshotArchiveError } from '../../src/server/snapshot/archive-error.js';
import { readArchiveFile } from '../../src/server/snapshot/archive-file.js';
import {
  ARCHIVE_FORMAT_VERSION,
  ARCHIVE_MAGIC,
  decodeSnapshotArchive,
  encodeSnapshotArchive,
} from '../../src/server/snapshot/archive-format.js';
import { summarizeArchiveState } from '../../src/server/snapshot/archive-state.js';
import { archiveOf, membership, removeDir, stateWith, tempDir } from './support.js';

const HEADER_START = ARCHIVE_MAGIC.length + 12;

/** Runs `action` and returns the SnapshotArchiveError it throws; fails when it throws nothing or something else. */
async function archiveError(action: () => Promise<unknown>): Promise<SnapshotArchiveError> {
  try {
    await action();
  } catch (err) {
    assert.ok(err instanceof SnapshotArchiveError, `expected a SnapshotArchiveError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a SnapshotArchiveError, but the archive was accepted');
}

/** Decodes and checks the whole archive, state included, as inspect and recover do. */
async function checkAll(bytes: Uint8Array): Promise<void> {
  const archive = await decodeSnapshotArchive(bytes, 'test.snap');
  summarizeArchiveState(archive, 'test.snap');
}

/** Builds an archive whose header is `header` (any JSON) with a valid CRC, followed by `state`. */
function withHeader(header: unknown, state: Uint8Array, version = ARCHIVE_FORMAT_VERSION): Buffer {
  return withRawHeader(Buffer.from(JSON.stringify(header)), state, version);
}

function withRawHeader(json: Buffer, state: Uint8Array, version = ARCHIVE_FORMAT_VERSION): Buffer {
  const prefix = Buffer.alloc(HEADER_START);
  ARCHIVE_MAGIC.copy(prefix);
  prefix.writeUInt32BE(version, ARCHIVE_MAGIC.length);
  prefix.writeUInt32BE(json.length, ARCHIVE_MAGIC.length + 4);
  prefix.writeUInt32BE(crc32(json), ARCHIVE_MAGIC.length + 8);
  return Buffer.concat([prefix, json, state]);
}

function headerOf(bytes: Buffer): Record<string, unknown> {
  const length = bytes.readUInt32BE(ARCHIVE_MAGIC.length + 4);
  return JSON.parse(bytes.subarray(HEADER_START, HEADER_START + length).toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('snapshot archive format', () => {
  test('round trip keeps header and state', async () => {
    const store = stateWith(['web', 'batch'], [101]);
    const bytes = await archiveOf(store, 7, membership([101, 102], [99]));

    assert.deepEqual(bytes.subarray(0, 16), Buffer.from('signet-snapshot\n'));
    const archive = await decodeSnapshotArchive(bytes, 'test.snap');
    assert.equal(archive.formatVersion, 1);
    assert.equal(archive.header.index, store.latestIndex);
    assert.equal(archive.header.term, 7);
    assert.deepEqual(archive.header.membership, membership([101, 102], [99]));
    assert.equal(archive.header.createdAt, '2026-12-04T10:00:00.000Z');
    assert.deepEqual(Buffer.from(archive.state), Buffer.from(store.snapshot()));

    const summary = summarizeArchiveState(archive, 'test.snap');
    assert.equal(summary.latestIndex, store.latestIndex);
    assert.equal(summary.rows.namespaces, 3, 'default, web and batch');
    assert.equal(summary.rows.servers, 1);
    assert.equal(summary.rows.jobs, 0);
  });

  test('header is readable JSON after the fixed prefix', async () => {
    const bytes = await archiveOf(stateWith(['web']), 2, membership([5]));
    const header = headerOf(bytes);
    assert.equal(header.index, 2);
    assert.equal(
      header.stateSize,
      bytes.length - HEADER_START - bytes.readUInt32BE(ARCHIVE_MAGIC.length + 4),
    );
    assert.match(String(header.stateSha256), /^[0-9a-f]{64}$/);
  });

  test('other files are not snapshots', async () => {
    for (const bytes of [Buffer.from('{"index": 1}'), Buffer.from('SIGNET-SNAPSHOT\nxxxxxxxxxxxxxxxxxxxx')]) {
      const err = await archiveError(() => decodeSnapshotArchive(bytes, 'other.json'));
      assert.equal(err.code, 'NOT_A_SNAPSHOT');
      assert.equal(err.field, 'magic');
      assert.equal(err.source, 'other.json');
    }
  });

  test('empty and cut files are truncated', async () => {
    const bytes = await archiveOf(stateWith(['web']), 2, membership([5]));
    for (const length of [0, 5, 16, 20, HEADER_START + 3, bytes.length - 1]) {
      const err = await archiveError(() => decodeSnapshotArchive(bytes.subarray(0, length), 'cut.snap'));
      assert.equal(err.code, 'TRUNCATED', `cut at ${length} bytes`);
    }
  });

  test('unknown format version is rejected', async () => {
    const store = stateWith(['web']);
    const good = headerOf(await archiveOf(store, 2, membership([5])));
    const err = await archiveError(() =>
      decodeSnapshotArchive(withHeader(good, store.snapshot(), 2), 'v2.snap'),
    );
    assert.equal(err.code, 'UNSUPPORTED_VERSION');
    assert.equal(err.field, 'formatVersion');
  });

  test('changed header byte fails the CRC', async () => {
    const bytes = await archiveOf(stateWith(['web']), 2, membership([5]));
    const changed = Buffer.from(bytes);
    // `"index":2` becomes `"index":3`: valid JSON, so only the CRC can tell.
    const at = changed.indexOf('"index":2');
    changed[at + '"index":'.length] = '3'.charCodeAt(0);
    const err = await archiveError(() => decodeSnapshotArchive(changed, 'x.snap'));
    assert.equal(err.code, 'CORRUPT');
    assert.equal(err.field, 'header');
  });

  test('invalid header fields are named', async () => {
    const store = stateWith(['web']);
    const good = headerOf(await archiveOf(store, 2, membership([5])));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...good, index: 0 }, 'index'],
      [{ ...good, term: '2' }, 'term'],
      [{ ...good, membership: { voters: [5], learners: [] } }, 'membership.removed'],
      [{ ...good, stateSha256: 'abc' }, 'stateSha256'],
      [{ ...good, createdAt: undefined }, 'createdAt'],
    ];
    for (const [header, field] of cases) {
      const err = await archiveError(() =>
        decodeSnapshotArchive(withHeader(header, store.snapshot()), 'x.snap'),
      );
      assert.equal(err.code, 'CORRUPT', field);
      assert.equal(err.field, field);
    }
  });

  test('header that is not a JSON object is corrupt', async () => {
    const state = stateWith(['web']).snapshot();
    for (const header of [withHeader(['a list'], state), withRawHeader(Buffer.from('{not json'), state)]) {
      const err = await archiveError(() => decodeSnapshotArchive(header, 'x.snap'));
      assert.equal(err.code, 'CORRUPT');
      assert.equal(err.field, 'header');
    }
  });

  test('changed state byte fails the SHA-256', async () => {
    const bytes = await archiveOf(stateWith(['web']), 2, membership([5]));
    const changed = Buffer.from(bytes);
    changed[changed.length - 3]! ^= 0x01;
    const err = await archiveError(() => decodeSnapshotArchive(changed, 'x.snap'));
    assert.equal(err.code, 'CHECKSUM_MISMATCH');
    assert.equal(err.field, 'stateSha256');
  });

  test('bytes after the state are rejected', async () => {
    const bytes = await archiveOf(stateWith(['web']), 2, membership([5]));
    const err = await archiveError(() =>
      decodeSnapshotArchive(Buffer.concat([bytes, Buffer.from([0])]), 'x.snap'),
    );
    assert.equal(err.code, 'CORRUPT');
    assert.equal(err.field, 'stateSize');
  });

  test('oversized header length is rejected', async () => {
    const bytes = Buffer.from(await archiveOf(stateWith(['web']), 2, membership([5])));
    bytes.writeUInt32BE(0xffff_ffff, ARCHIVE_MAGIC.length + 4);
    const err = await archiveError(() => decodeSnapshotArchive(bytes, 'x.snap'));
    assert.equal(err.code, 'CORRUPT');
    assert.equal(err.field, 'headerLength');
  });

  test('every single-byte change is detected', async () => {
    const bytes = await archiveOf(stateWith(['web']), 2, membership([5]));
    for (let at = 0; at < bytes.length; at++) {
      const changed = Buffer.from(bytes);
      changed[at]! ^= 0x40;
      await archiveError(() => checkAll(changed));
    }
  });

  test('state that does not decode is corrupt', async () => {
    const garbage = Buffer.from('not a state snapshot');
    const bytes = await encodeSnapshotArchive(
      { index: 4, term: 2, membership: membership([5]), createdAt: 'now', signetVersion: '0.1.0' },
      garbage,
    );
    const archive = await decodeSnapshotArchive(bytes, 'x.snap');
    const err = await archiveError(async () => summarizeArchiveState(archive, 'x.snap'));
    assert.equal(err.code, 'CORRUPT');
    assert.match(err.field ?? '', /^state\./);
  });

  test('state index must match the header', async () => {
    const store = stateWith(['web']);
    const bytes = await encodeSnapshotArchive(
      {
        index: store.latestIndex + 5,
        term: 2,
        membership: membership([5]),
        createdAt: 'now',
        signetVersion: '0',
      },
      store.snapshot(),
    );
    const archive = await decodeSnapshotArchive(bytes, 'x.snap');
    const err = await archiveError(async () => summarizeArchiveState(archive, 'x.snap'));
    assert.equal(err.code, 'CORRUPT');
    assert.equal(err.field, 'index');
  });

  test('file read errors name the path', async () => {
    const dir = await tempDir('archive');
    try {
      const missing = join(dir, 'missing.snap');
      const err = await archiveError(() => readArchiveFile(missing));
      assert.equal(err.code, 'IO');
      assert.equal(err.source, missing);

      const good = join(dir, 'good.snap');
      await writeFile(good, await archiveOf(stateWith(['web']), 2, membership([5])));
      const checked = await readArchiveFile(good);
      assert.equal(checked.summary.rows.namespaces, 2);
      assert.equal(checked.path, good);
    } finally {
      await removeDir(dir);
    }
  });
});
