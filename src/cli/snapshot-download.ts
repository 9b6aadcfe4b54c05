import { open } from 'node:fs/promises';
import { ApiClient } from '../http/client.js';
import type { ApiFlags } from './api-command.js';

/**
 * Time limit of a whole snapshot download in milliseconds. Larger than the API client's 60 s,
 * because the body grows with the state (see the measurements in docs/operations-snapshot.md).
 */
export const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/**
 * Default of `snapshot save -timeout`: how long the server may send nothing, before the response
 * (while it confirms the commit index and encodes the state) or within the body. The API client's
 * 60 s, because encoding takes about 0.9 s per 100,000 allocations.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

/**
 * Sends GET `path` and writes the response body to a new file at `file`, created with mode 0600
 * (it must not exist yet) and synced before this resolves. The download fails with ApiError
 * TIMEOUT when the server sends nothing for `idleTimeoutMs`, or when it takes 10 minutes in all. Address, token and error messages are
 * the API client's, as for every API command. Throws ApiError for a failed request or status, and
 * writes no file then. A failed write may leave `file` partly written, and the caller removes it.
 */
export async function downloadToFile(
  flags: ApiFlags,
  path: string,
  query: Readonly<Record<string, string>>,
  file: string,
  idleTimeoutMs: number = DEFAULT_IDLE_TIMEOUT_MS,
): Promise<{ bytes: number }> {
  const client = new ApiClient({ address: flags.address, token: flags.token });
  const { body } = await client.download(path, query, { timeoutMs: DOWNLOAD_TIMEOUT_MS, idleTimeoutMs });

  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx', 0o600);
  } catch (err) {
    throw new Error(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await handle.writeFile(body);
    await handle.sync();
  } catch (err) {
    throw new Error(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  } finally {
    await handle.close();
  }
  return { bytes: body.byteLength };
}
