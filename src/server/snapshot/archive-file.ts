import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { SnapshotArchiveError } from './archive-error.js';
import {
  ARCHIVE_PREFIX_BYTES,
  checkStateSha256,
  checkStateSize,
  decodeArchiveHeader,
  decodeArchivePrefix,
  type SnapshotArchive,
} from './archive-format.js';
import { type StateSummary, summarizeArchiveState } from './archive-state.js';

/**
 * Largest state that a file may hold: the state is read into one Buffer, and Node cannot
 * allocate a larger one (4 GiB on 64-bit Node 20).
 */
export const MAX_ARCHIVE_STATE_BYTES = bufferConstants.MAX_LENGTH;
/** Bytes read and hashed between two yields to the event loop. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/** A checked archive file: its header and state, and what the state contains. */
export interface CheckedArchive {
  readonly path: string;
  /** Size of the whole file in bytes. */
  readonly fileSize: number;
  readonly archive: SnapshotArchive;
  readonly summary: StateSummary;
}

/**
 * Reads the snapshot archive at `path` and checks all of it: layout, header CRC, state SHA-256,
 * and that the state decodes at the header's index. The prefix and the header are read and
 * checked first, so a file of another kind is rejected after 28 bytes, and the state is read only
 * when the file's size matches the header. Throws SnapshotArchiveError, whose messages name the
 * file as `source` (default: `path`); IO for a file that is missing, not a regular file (a FIFO,
 * a device) or unreadable.
 */
export async function readArchiveFile(path: string, source: string = path): Promise<CheckedArchive> {
  // O_NONBLOCK so that opening a FIFO does not wait for a writer; fstat then rejects it.
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK).catch((err: unknown) => {
    throw ioError(source, err);
  });
  try {
    return await readOpenArchive(handle, path, source);
  } finally {
    await handle.close();
  }
}

async function readOpenArchive(handle: FileHandle, path: string, source: string): Promise<CheckedArchive> {
  const stats = await handle.stat().catch((err: unknown) => {
    throw ioError(source, err);
  });
  if (stats.isDirectory()) throw ioFailure(source, 'it is a folder');
  if (!stats.isFile()) throw ioFailure(source, 'it is not a regular file (a FIFO, socket or device)');
  const fileSize = stats.size;

  const prefixBytes = await readAt(handle, 0, Math.min(fileSize, ARCHIVE_PREFIX_BYTES), source);
  const prefix = decodeArchivePrefix(prefixBytes, fileSize, source);
  const headerBytes = await readAt(handle, ARCHIVE_PREFIX_BYTES, prefix.headerLength, source);
  const header = decodeArchiveHeader(headerBytes, prefix, source);
  const stateOffset = ARCHIVE_PREFIX_BYTES + prefix.headerLength;
  checkStateSize(header, fileSize - stateOffset, source);
  if (header.stateSize > MAX_ARCHIVE_STATE_BYTES) {
    throw new SnapshotArchiveError(
      'IO',
      source,
      `cannot read snapshot file ${source}: its state of ${header.stateSize} bytes is above the limit of ${MAX_ARCHIVE_STATE_BYTES} bytes`,
      { field: 'stateSize' },
    );
  }

  const state = Buffer.allocUnsafe(header.stateSize);
  const hash = createHash('sha256');
  for (let offset = 0; offset < state.length; offset += READ_CHUNK_BYTES) {
    if (offset > 0) await yieldToEventLoop();
    const chunk = state.subarray(offset, Math.min(state.length, offset + READ_CHUNK_BYTES));
    await readInto(handle, chunk, stateOffset + offset, source);
    hash.update(chunk);
  }
  checkStateSha256(header, hash.digest('hex'), source);

  const archive: SnapshotArchive = {
    formatVersion: prefix.formatVersion,
    header,
    state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength),
  };
  const summary = summarizeArchiveState(archive, source);
  return { path, fileSize, archive, summary };
}

async function readAt(handle: FileHandle, position: number, length: number, source: string): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  await readInto(handle, bytes, position, source);
  return bytes;
}

/** Fills `target` from `position`; a file that shrank meanwhile is reported as truncated. */
async function readInto(handle: FileHandle, target: Buffer, position: number, source: string): Promise<void> {
  let filled = 0;
  while (filled < target.length) {
    const { bytesRead } = await handle
      .read(target, filled, target.length - filled, position + filled)
      .catch((err: unknown) => {
        throw ioError(source, err);
      });
    if (bytesRead === 0) {
      throw new SnapshotArchiveError(
        'TRUNCATED',
        source,
        `snapshot file ${source} is incomplete: it ended at byte ${position + filled} while it was read; save the snapshot again`,
      );
    }
    filled += bytesRead;
  }
}

function ioError(source: string, err: unknown): SnapshotArchiveError {
  const code = (err as NodeJS.ErrnoException).code;
  let reason = String(err);
  if (code === 'ENOENT') reason = 'no such file';
  if (code === 'EISDIR') reason = 'it is a folder';
  return ioFailure(source, reason, err);
}

function ioFailure(source: string, reason: string, cause?: unknown): SnapshotArchiveError {
  return new SnapshotArchiveError('IO', source, `cannot read snapshot file ${source}: ${reason}`, {
    cause,
  });
}
