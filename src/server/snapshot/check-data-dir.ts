import { readdir, stat } from 'node:fs/promises';
import { RecoverError } from './recover-error.js';

/**
 * Checks that `dataDir` is a server's data_dir (it contains `server/`) or an empty folder, before
 * recovery writes `server/raft` into it. A path one level too deep (`data_dir/server`) would
 * otherwise get a `server/server/raft` that no server reads, and the restore would seem to work.
 * Throws RecoverError DATA_DIR_MISSING, DATA_DIR_INVALID, DATA_DIR_IS_SERVER_FOLDER or
 * DATA_DIR_NOT_SERVER.
 */
export async function checkDataDir(dataDir: string): Promise<void> {
  let names: string[];
  try {
    if (!(await stat(dataDir)).isDirectory()) {
      throw new RecoverError(
        'DATA_DIR_INVALID',
        dataDir,
        `data folder ${dataDir} is not a folder; pass the server's data_dir`,
      );
    }
    names = await readdir(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new RecoverError(
      'DATA_DIR_MISSING',
      dataDir,
      `data folder ${dataDir} does not exist; pass the data_dir of the stopped server (to restore a snapshot into a new server, create an empty folder first)`,
    );
  }

  if (names.includes('raft') || names.includes('node-id')) {
    throw new RecoverError(
      'DATA_DIR_IS_SERVER_FOLDER',
      dataDir,
      `data folder ${dataDir} contains raft/ or node-id, so it is the server/ folder inside a data_dir; pass its parent folder, the server's data_dir`,
    );
  }
  if (names.length > 0 && !names.includes('server')) {
    throw new RecoverError(
      'DATA_DIR_NOT_SERVER',
      dataDir,
      `data folder ${dataDir} is not empty but has no server/ folder, so it is not a server's data_dir; pass the data_dir of the stopped server, or an empty folder to restore a snapshot into`,
    );
  }
}

/** True when `file` exists; other failures to check it are thrown. */
export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
