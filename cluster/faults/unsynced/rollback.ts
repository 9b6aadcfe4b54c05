import { lstat, readdir, realpath, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Counts of what a rollback dropped from one folder. */
export interface RollbackSummary {
  /** Files cut back to their synced size. */
  readonly truncatedFiles: number;
  /** Files deleted because they were never synced under their current name. */
  readonly deletedFiles: number;
  /** Bytes dropped by both. */
  readonly droppedBytes: number;
}

/**
 * Rolls the files under `folder` back to what was synced, as a power loss would: a file with a
 * synced size longer than that is truncated to it, and a file without one is deleted. `synced`
 * maps real absolute paths to synced sizes (replayJournal's result). The caller must have stopped
 * every process that writes in `folder`.
 *
 * Folders, symbolic links and the names of synced files are kept, so a rename or a new file counts
 * as durable once its content was synced, even when its folder never was.
 */
export async function rollBackToSynced(
  folder: string,
  synced: ReadonlyMap<string, number>,
): Promise<RollbackSummary> {
  const summary = { truncatedFiles: 0, deletedFiles: 0, droppedBytes: 0 };
  // The journal contains real paths, as the kernel reports them for open files.
  await rollBackFolder(await realpath(folder), synced, summary);
  return summary;
}

async function rollBackFolder(
  folder: string,
  synced: ReadonlyMap<string, number>,
  summary: { truncatedFiles: number; deletedFiles: number; droppedBytes: number },
): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      await rollBackFolder(path, synced, summary);
      continue;
    }
    if (!entry.isFile()) continue;

    const { size } = await lstat(path);
    const syncedSize = synced.get(path);
    if (syncedSize === undefined) {
      await unlink(path);
      summary.deletedFiles++;
      summary.droppedBytes += size;
    } else if (size > syncedSize) {
      await truncate(path, syncedSize);
      summary.truncatedFiles++;
      summary.droppedBytes += size - syncedSize;
    }
  }
}
