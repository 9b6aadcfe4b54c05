import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { ApiClient, ApiError } from '../http/client.js';
import type { ApiFlags } from './api-command.js';

/**
 * Time limit of a whole snapshot download in milliseconds. Larger than the API client's 60 s,
 * because the body grows with the state (tens of MiB for 100,000 allocations).
 */
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

/** Maximum bytes of an error response body kept for the message. */
const MAX_ERROR_BODY_BYTES = 4096;

/**
 * Sends GET `path` and streams the response body into a new file at `file`, created with mode
 * 0600 (it must not exist yet), synced before this resolves. Address and token come from the
 * flags and environment as for every API command. Throws ApiError for a failed request or status;
 * the file may then exist, partly written, and the caller removes it.
 */
export async function downloadToFile(
  flags: ApiFlags,
  path: string,
  query: Readonly<Record<string, string>>,
  file: string,
): Promise<{ bytes: number }> {
  // The API client resolves and checks the address exactly as for other commands.
  const address = new ApiClient({ address: flags.address, token: flags.token }).address;
  const url = new URL(path, address);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const token = tokenFrom(flags);
  const headers: Record<string, string> = token === '' ? {} : { 'X-Nomad-Token': token };

  let response: IncomingMessage;
  try {
    response = await get(url, headers);
  } catch (err) {
    throw transportError(url, address, err);
  }
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    const body = (await readLimited(response)).trim().replace(/\s*\n\s*/g, ' ');
    const hint = status === 401 || status === 403 ? '; check -token, SIGNET_TOKEN or NOMAD_TOKEN' : '';
    throw new ApiError(
      'HTTP_STATUS',
      `GET ${url.pathname} failed with status ${status}: ${body || '(empty body)'}${hint}`,
      status,
      body,
    );
  }

  const out = createWriteStream(file, { flags: 'wx', mode: 0o600 });
  try {
    await pipeline(response, out);
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    // A failed open or write of the file (it exists, disk full) is not a network problem.
    if (error.syscall === 'open' || error.syscall === 'write') {
      throw new Error(`cannot write ${file}: ${error.message}`, { cause: err });
    }
    throw transportError(url, address, err);
  }
  // fsync flushes the file's data through any descriptor, so a second one suffices.
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes: out.bytesWritten };
}

/** Returns the token of `-token`, else SIGNET_TOKEN, else NOMAD_TOKEN, as ApiClient chooses it. */
function tokenFrom(flags: ApiFlags, env: Readonly<Record<string, string | undefined>> = process.env): string {
  for (const candidate of [flags.token, env.SIGNET_TOKEN, env.NOMAD_TOKEN]) {
    if (candidate !== undefined && candidate !== '') return candidate.trim();
  }
  return '';
}

function get(url: URL, headers: Record<string, string>): Promise<IncomingMessage> {
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(url, { method: 'GET', headers, signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

async function readLimited(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8');
}

function transportError(url: URL, address: string, err: unknown): ApiError {
  const error = err as NodeJS.ErrnoException;
  if (error.name === 'AbortError' || error.name === 'TimeoutError') {
    return new ApiError(
      'TIMEOUT',
      `GET ${url.pathname} to ${address} timed out after ${DOWNLOAD_TIMEOUT_MS / 1000} s; check that the agent is healthy`,
    );
  }
  const reason = error.code === 'ECONNREFUSED' ? 'connection refused' : error.message;
  return new ApiError(
    'CONNECTION_FAILED',
    `Cannot reach the Signet API at ${address} (${reason}); start an agent there or set -address, SIGNET_ADDR or NOMAD_ADDR`,
  );
}
