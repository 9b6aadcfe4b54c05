import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Address of the local agent's HTTP API, as in Nomad. */
export const DEFAULT_ADDRESS = 'http://127.0.0.1:4646';
/** How long one API call may take before the client gives up, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 60_000;

export interface ApiClientOptions {
  /** From the `-address` flag; wins over the environment. */
  readonly address?: string | undefined;
  /** From the `-token` flag; wins over the environment. */
  readonly token?: string | undefined;
  /** Source of SIGNET_ADDR, NOMAD_ADDR, SIGNET_TOKEN and NOMAD_TOKEN; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
}

export type ApiErrorCode =
  | 'INVALID_ADDRESS'
  | 'CONNECTION_FAILED'
  | 'TIMEOUT'
  | 'HTTP_STATUS'
  | 'INVALID_RESPONSE';

/** A failed API call. `message` is one line: what failed and what to try next. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly code: ApiErrorCode;
  /** HTTP status for `HTTP_STATUS`. */
  readonly status: number | null;
  /** The server's plain-text error body for `HTTP_STATUS`. */
  readonly serverMessage: string | null;

  constructor(
    code: ApiErrorCode,
    message: string,
    status: number | null = null,
    serverMessage: string | null = null,
  ) {
    super(message);
    this.code = code;
    this.status = status;
    this.serverMessage = serverMessage;
  }
}

export interface ApiResponse<T> {
  /** Parsed JSON body; null for an empty body. */
  readonly body: T;
  /** `X-Nomad-Index`, or null when the server sent none. */
  readonly index: number | null;
  readonly headers: IncomingHttpHeaders;
}

type Query = Readonly<Record<string, string | boolean | undefined>>;

/** Client of the Signet (and Nomad-compatible) HTTP API, used by the CLI. */
export class ApiClient {
  readonly address: string;
  readonly #token: string;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions = {}) {
    const env = options.env ?? process.env;
    this.address = normalizeAddress(
      nonEmpty(options.address) ?? nonEmpty(env.SIGNET_ADDR) ?? nonEmpty(env.NOMAD_ADDR) ?? DEFAULT_ADDRESS,
    );
    this.#token = (
      nonEmpty(options.token) ??
      nonEmpty(env.SIGNET_TOKEN) ??
      nonEmpty(env.NOMAD_TOKEN) ??
      ''
    ).trim();
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get<T>(path: string, query: Query = {}): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, query, undefined);
  }

  put<T>(path: string, body?: unknown, query: Query = {}): Promise<ApiResponse<T>> {
    return this.request<T>('PUT', path, query, body);
  }

  delete<T>(path: string, query: Query = {}): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, query, undefined);
  }

  async request<T>(method: string, path: string, query: Query, body: unknown): Promise<ApiResponse<T>> {
    const url = new URL(path, this.address);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined || value === false) continue;
      url.searchParams.set(name, value === true ? 'true' : value);
    }

    const headers: Record<string, string> = {};
    if (this.#token !== '') headers['X-Nomad-Token'] = this.#token;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }

    let response: RawResponse;
    try {
      response = await send(url, method, headers, payload, this.#timeoutMs);
    } catch (err) {
      throw this.#transportError(method, url, err);
    }

    if (response.status < 200 || response.status > 299) {
      const serverMessage = response.text.trim();
      throw new ApiError(
        'HTTP_STATUS',
        `${method} ${url.pathname} failed with status ${response.status}: ${oneLine(serverMessage) || '(empty body)'}${statusHint(response.status)}`,
        response.status,
        serverMessage,
      );
    }

    let parsed: unknown = null;
    if (response.text !== '') {
      try {
        parsed = JSON.parse(response.text);
      } catch {
        throw new ApiError(
          'INVALID_RESPONSE',
          `${method} ${url.pathname} returned a body that is not JSON; is ${this.address} a Signet or Nomad API address?`,
        );
      }
    }
    const indexHeader = response.headers['x-nomad-index'];
    const index = typeof indexHeader === 'string' && /^\d+$/.test(indexHeader) ? Number(indexHeader) : null;
    return { body: parsed as T, index, headers: response.headers };
  }

  #transportError(method: string, url: URL, err: unknown): ApiError {
    const error = err as NodeJS.ErrnoException;
    // The only abort signal on the request is the timeout.
    if (error.name === 'AbortError' || error.name === 'TimeoutError') {
      return new ApiError(
        'TIMEOUT',
        `${method} ${url.pathname} to ${this.address} timed out after ${this.#timeoutMs} ms; check that the agent is healthy`,
      );
    }
    const reason =
      error.code === 'ECONNREFUSED'
        ? 'connection refused'
        : error.code === 'ENOTFOUND'
          ? 'host not found'
          : error.message;
    return new ApiError(
      'CONNECTION_FAILED',
      `Cannot reach the Signet API at ${this.address} (${reason}); start an agent there or set -address, SIGNET_ADDR or NOMAD_ADDR`,
    );
  }
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * Sends one request with node:http(s). The client avoids fetch because fetch refuses the ports on
 * the Fetch standard's "bad port" list (6000 and 6665-6669 among them), which an agent may use.
 */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: Buffer | undefined,
  timeoutMs: number,
): Promise<RawResponse> {
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(url, { method, headers, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Accepts `host:port` without a scheme, as users often type it, and checks the rest. */
export function normalizeAddress(address: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ApiError(
      'INVALID_ADDRESS',
      `Invalid address ${JSON.stringify(address)}: use a URL such as ${DEFAULT_ADDRESS}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiError(
      'INVALID_ADDRESS',
      `Invalid address ${JSON.stringify(address)}: the scheme must be http or https, as in ${DEFAULT_ADDRESS}`,
    );
  }
  return url.origin;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return '; check -token, SIGNET_TOKEN or NOMAD_TOKEN';
  return '';
}
