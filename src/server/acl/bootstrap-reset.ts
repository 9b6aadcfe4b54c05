import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RequestError } from '../request-error.js';

/** Name of the file in `<data_dir>/server` where an operator writes the reset index, as in Nomad. */
export const BOOTSTRAP_RESET_FILE = 'acl-bootstrap-reset';

/** Path of the reset file of a server whose data folder is `dataDir`. */
export function bootstrapResetPath(dataDir: string): string {
  return join(dataDir, 'server', BOOTSTRAP_RESET_FILE);
}

/**
 * Reads the ACL bootstrap reset index from `path`: 0 when the file does not exist, else the decimal
 * number it contains (surrounding whitespace ignored). Throws RequestError 400 for any other
 * content, because a reset that silently does nothing would puzzle the operator.
 */
export async function readBootstrapResetIndex(path: string | null): Promise<number> {
  if (path === null) return 0;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new RequestError(
      500,
      `cannot read the ACL bootstrap reset file ${path}: ${(err as Error).message}`,
    );
  }
  const trimmed = text.trim();
  const index = /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(index)) {
    throw new RequestError(
      400,
      `invalid ACL bootstrap reset file ${path}: expected the reset index as a decimal number, such as the N of "reset index: N"; fix or remove the file`,
    );
  }
  return index;
}
