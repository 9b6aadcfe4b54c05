import { SnapshotError } from '../../state/errors.js';
import { decodeSnapshot } from '../../state/snapshot-codec.js';
import { TABLE_NAMES, type TableName } from '../../state/tables.js';
import { SnapshotArchiveError } from './archive-error.js';
import type { SnapshotArchive } from './archive-format.js';

/** Contents of a decoded state snapshot, for `snapshot inspect` and the output of a recovery. */
export interface StateSummary {
  /** Raft index that the state reflects. */
  readonly latestIndex: number;
  /** Number of rows in each table. */
  readonly rows: Readonly<Record<TableName, number>>;
}

/** Decodes state snapshot bytes in full and counts the rows of each table. Throws SnapshotError. */
export function summarizeState(state: Uint8Array): StateSummary {
  const image = decodeSnapshot(state);
  const rows = {} as Record<TableName, number>;
  for (const name of TABLE_NAMES) rows[name] = image.tables[name].size;
  return { latestIndex: image.latestIndex, rows };
}

/**
 * Decodes an archive's state and checks that it reflects the index in the header. Throws
 * SnapshotArchiveError CORRUPT naming the state field at fault, because a state that does not
 * decode after its SHA-256 matched was written wrong or by a newer Signet.
 */
export function summarizeArchiveState(archive: SnapshotArchive, source: string): StateSummary {
  let summary: StateSummary;
  try {
    summary = summarizeState(archive.state);
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    throw new SnapshotArchiveError(
      'CORRUPT',
      source,
      `snapshot file ${source} contains a state that this Signet cannot read (${err.message}); it may come from a newer release`,
      { field: `state.${err.field}`, cause: err },
    );
  }
  if (summary.latestIndex !== archive.header.index) {
    throw new SnapshotArchiveError(
      'CORRUPT',
      source,
      `snapshot file ${source} is damaged: its state reflects index ${summary.latestIndex}, but the header records index ${archive.header.index}`,
      { field: 'index' },
    );
  }
  return summary;
}
