import { createHash } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotRecord } from './codec.js';
import { CORRUPT_ADVICE, StorageError } from './storage.js';

/**
 * Snapshot data files in the data folder, named `snapshot-<index, 20 digits>.snap`. A file is
 * written under the same name plus `.tmp` and renamed once synced, so a crash leaves either a
 * complete file or a temporary one that the next open deletes.
 */
const NAME_PATTERN = /^snapshot-\d{20}\.snap$/;
const TEMP_SUFFIX = '.tmp';

/**
 * Bytes hashed and written per step. Hashing 1 MiB takes a few ms, which keeps each synchronous
 * step well under the event-loop budget even for snapshots of hundreds of MiB.
 */
const CHUNK_BYTES = 1024 * 1024;

/** Mode of a snapshot file: read and write for the owner only. */
const SNAPSHOT_FILE_MODE = 0o600;

export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(20, '0')}.snap`;
}

export function tempFileName(file: string): string {
  return `${file}${TEMP_SUFFIX}`;
}

/**
 * Writes `data` durably as the snapshot file for `index` and returns its name and SHA-256.
 * Order: temporary file, fsync of the file, rename, fsync of the folder. After a failure the
 * temporary file may remain, and the next open deletes it.
 */
export async function writeSnapshotFile(
  dir: string,
  index: number,
  data: Uint8Array,
): Promise<{ file: string; sha256: Uint8Array }> {
  const file = snapshotFileName(index);
  const tempPath = join(dir, tempFileName(file));
  const hash = createHash('sha256');

  // The snapshot contains every token secret. open applies the mode only to a new file, so the
  // chmod covers a temporary file that an earlier failed write left behind.
  const handle = await open(tempPath, 'w', SNAPSHOT_FILE_MODE);
  try {
    await handle.chmod(SNAPSHOT_FILE_MODE);
    for (let offset = 0; offset < data.length; ) {
      const chunk = data.subarray(offset, offset + CHUNK_BYTES);
      hash.update(chunk);
      for (let written = 0; written < chunk.length; ) {
        const result = await handle.write(chunk, written, chunk.length - written, offset + written);
        written += result.bytesWritten;
      }
      offset += chunk.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }

  await rename(tempPath, join(dir, file));
  await syncDirectory(dir);
  return { file, sha256: new Uint8Array(hash.digest()) };
}

/** Reads the snapshot file of `record` and checks its size and SHA-256. A mismatch is STORAGE_CORRUPT. */
export async function readSnapshotFile(dir: string, record: SnapshotRecord): Promise<Uint8Array> {
  const path = join(dir, record.file);
  const handle = await openSnapshot(path, record);
  const data = new Uint8Array(record.size);
  const hash = createHash('sha256');
  try {
    const size = (await handle.stat()).size;
    if (size !== record.size) {
      throw snapshotCorrupt(path, record, `the file has ${size} bytes, but LevelDB records ${record.size}`);
    }
    for (let offset = 0; offset < data.length; ) {
      const chunk = data.subarray(offset, offset + CHUNK_BYTES);
      for (let read = 0; read < chunk.length; ) {
        const result = await handle.read(chunk, read, chunk.length - read, offset + read);
        if (result.bytesRead === 0) {
          throw snapshotCorrupt(path, record, `the file ends at byte ${offset + read}`);
        }
        read += result.bytesRead;
      }
      hash.update(chunk);
      offset += chunk.length;
    }
  } finally {
    await handle.close();
  }

  const sha256 = hash.digest();
  if (!sha256.equals(record.sha256)) {
    throw snapshotCorrupt(
      path,
      record,
      `its SHA-256 is ${sha256.toString('hex')}, but LevelDB records ${Buffer.from(record.sha256).toString('hex')}`,
    );
  }
  return data;
}

/** Checks that the file of `record` exists with the recorded size, without reading it. */
export async function checkSnapshotFile(dir: string, record: SnapshotRecord): Promise<void> {
  const path = join(dir, record.file);
  const handle = await openSnapshot(path, record);
  try {
    const size = (await handle.stat()).size;
    if (size !== record.size) {
      throw snapshotCorrupt(path, record, `the file has ${size} bytes, but LevelDB records ${record.size}`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Deletes every temporary snapshot file and every snapshot file other than `keep`, and returns
 * the names deleted. A crash or a failed write leaves such files, and none contains acknowledged data.
 */
export async function removeStraySnapshotFiles(dir: string, keep: string | null): Promise<string[]> {
  const removed: string[] = [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    if (!dirent.isFile()) continue;
    const name = dirent.name;
    const isTemp = name.endsWith(TEMP_SUFFIX) && NAME_PATTERN.test(name.slice(0, -TEMP_SUFFIX.length));
    const isOld = NAME_PATTERN.test(name) && name !== keep;
    if (isTemp || isOld) {
      await unlink(join(dir, name));
      removed.push(name);
    }
  }
  return removed;
}

/** Makes the creation, rename or removal of files in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function openSnapshot(path: string, record: SnapshotRecord) {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw snapshotCorrupt(path, record, 'the file is missing', err);
    }
    throw err;
  }
}

function snapshotCorrupt(
  path: string,
  record: SnapshotRecord,
  reason: string,
  cause?: unknown,
): StorageError {
  return new StorageError(
    'STORAGE_CORRUPT',
    `snapshot file ${path} of snapshot index ${record.meta.index} is damaged: ${reason}. ${CORRUPT_ADVICE}`,
    { path, cause },
  );
}
