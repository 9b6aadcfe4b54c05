import { access, chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDirectory } from './snapshot-file.js';
import { CORRUPT_ADVICE, StorageError } from './storage.js';

/**
 * File written once the LevelDB database of a data folder exists. Its presence means the folder
 * contains Raft state, so a missing database there is data loss, never a fresh start: opening
 * without it would let a server forget its vote and its acknowledged entries.
 */
export const MARKER_FILE = 'signet-raft-storage';

/**
 * Mode of a data folder: owner only. The LevelDB files and the snapshot files inside contain every
 * ACL token secret and the wrapped root keys. LevelDB creates its files with the process umask,
 * so this folder's mode is what keeps other users out of them.
 */
export const DATA_FOLDER_MODE = 0o700;

/**
 * Creates `dir` and its missing parents with DATA_FOLDER_MODE, syncing each new folder's entry in
 * its parent. An existing `dir` that group or others may enter or read is narrowed to
 * DATA_FOLDER_MODE. Returns the earlier mode of a folder that was narrowed, else null.
 */
export async function createDataFolder(dir: string): Promise<number | null> {
  try {
    const firstCreated = await mkdir(dir, { recursive: true, mode: DATA_FOLDER_MODE });
    if (firstCreated === undefined) return await narrowFolderMode(dir);
    for (let created = dir; ; created = dirname(created)) {
      await syncDirectory(dirname(created));
      if (created === firstCreated) return null;
    }
  } catch (err) {
    throw new StorageError(
      'STORAGE_IO',
      `cannot create data folder ${dir}: ${innermostMessage(err)}; check that the path and its parents are writable folders`,
      { path: dir, cause: err },
    );
  }
}

/**
 * Sets an existing folder to DATA_FOLDER_MODE when group or others have any access to it. Returns
 * the earlier mode when it changed, else null.
 */
async function narrowFolderMode(dir: string): Promise<number | null> {
  const mode = (await stat(dir)).mode & 0o777;
  if ((mode & 0o077) === 0) return null;
  await chmod(dir, DATA_FOLDER_MODE);
  return mode;
}

export async function hasMarker(dir: string): Promise<boolean> {
  try {
    await access(join(dir, MARKER_FILE));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    // Any other failure leaves it unknown whether the folder contains state, so do not guess "new".
    throw new StorageError(
      'STORAGE_IO',
      `cannot check ${join(dir, MARKER_FILE)}: ${innermostMessage(err)}; check the folder's permissions`,
      { path: dir, cause: err },
    );
  }
}

/** Writes the marker durably: the file is synced, then the folder entry that names it. */
export async function writeMarker(dir: string): Promise<void> {
  await writeFileSynced(
    join(dir, MARKER_FILE),
    'This folder holds Signet Raft state. Do not delete parts of it.\n',
  );
}

/** Writes a small file and syncs it and the folder entry that names it. */
async function writeFileSynced(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDirectory(dirname(path));
}

export function missingDatabase(dbPath: string, err: unknown): StorageError {
  return new StorageError(
    'STORAGE_CORRUPT',
    `cannot open ${dbPath}: the data folder holds Raft state (${MARKER_FILE} exists) but its LevelDB database is missing or incomplete (${innermostMessage(err)}). ${CORRUPT_ADVICE}`,
    { path: dbPath, cause: err },
  );
}

/**
 * Fails when LevelDB's recovery skipped damaged records. classic-level 3.0.0 cannot turn on
 * LevelDB's paranoid checks, so recovery drops a record whose checksum fails, together with the
 * rest of its block. It reports that only in its LOG file, so reading that file is the only way
 * to notice.
 */
export async function checkRecoveryLog(dir: string, dbPath: string, files: readonly string[]): Promise<void> {
  let dropped: string | undefined;
  for (const file of files) {
    let log: string;
    try {
      log = await readFile(join(dbPath, file), 'utf8');
    } catch {
      continue;
    }
    dropped = log.split('\n').find((line) => /dropping \d+ bytes/.test(line) || /Corruption:/.test(line));
    if (dropped !== undefined) break;
  }
  if (dropped === undefined) return;
  // LevelDB has already rewritten its files without the damaged records, and the next open would
  // rotate this LOG away, so record the damage where every later open finds it.
  const reason = `LevelDB skipped damaged records while recovering its log: ${dropped.trim()}`;
  await writeFileSynced(join(dir, DAMAGE_FILE), `${reason}\n`);
  throw damaged(dbPath, reason);
}

/** File that records damage found once, so that every later open refuses the folder too. */
export const DAMAGE_FILE = 'signet-raft-storage.damaged';

/** Fails when an earlier open found the folder damaged. */
export async function checkNotDamaged(dir: string, dbPath: string): Promise<void> {
  let reason: string;
  try {
    reason = (await readFile(join(dir, DAMAGE_FILE), 'utf8')).trim();
  } catch {
    return;
  }
  throw damaged(dbPath, reason);
}

function damaged(dbPath: string, reason: string): StorageError {
  return new StorageError('STORAGE_CORRUPT', `cannot open ${dbPath}: ${reason}. ${CORRUPT_ADVICE}`, {
    path: dbPath,
  });
}

/** Returns the message of the deepest `cause` of an error, which is where LevelDB puts the reason. */
export function innermostMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
