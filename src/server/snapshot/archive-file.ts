import { readFile } from 'node:fs/promises';
import { SnapshotArchiveError } from './archive-error.js';
import { decodeSnapshotArchive, type SnapshotArchive } from './archive-format.js';
import { type StateSummary, summarizeArchiveState } from './archive-state.js';

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
 * and that the state decodes at the header's index. Throws SnapshotArchiveError, whose messages
 * name the file as `source` (default: `path`).
 */
export async function readArchiveFile(path: string, source: string = path): Promise<CheckedArchive> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    let reason = String(err);
    if (code === 'ENOENT') reason = 'no such file';
    if (code === 'EISDIR') reason = 'it is a folder';
    throw new SnapshotArchiveError('IO', source, `cannot read snapshot file ${source}: ${reason}`, {
      cause: err,
    });
  }
  const archive = await decodeSnapshotArchive(bytes, source);
  const summary = summarizeArchiveState(archive, source);
  return { path, fileSize: bytes.length, archive, summary };
}
