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
  /** The caller's `signal` aborted the request, as Ctrl-C does while a command follows progress. */
  | 'ABORTED'
  | 'HTTP_STATUS'
  | 'INVALID_RESPONSE';

/** Origin of the address or the token, so that an error message names the setting to change. */
export type SettingSource =
  | 'flag'
  | 'SIGNET_ADDR'
  | 'NOMAD_ADDR'
  | 'SIGNET_TOKEN'
  | 'NOMAD_TOKEN'
  | 'default';

/** Per-request options. */
export interface RequestOptions {
  /** Aborts the request, which then rejects with ApiError `ABORTED`. */
  readonly signal?: AbortSignal;
  /** Time limit of this request in milliseconds; default the client's `timeoutMs`. */
  readonly timeoutMs?: number;
  /**
   * Gives up when the connection carries nothing for this many milliseconds, while waiting for the
   * response or during its body (default: no limit besides `timeoutMs`). Long downloads set it,
   * so that a frozen server fails them long before their whole-request limit.
   */
  readonly idleTimeoutMs?: number;
}

/** The connection of a request was idle for longer than its `idleTimeoutMs`. */
class IdleTimeoutError extends Error {
  override readonly name = 'IdleTimeoutError';
  readonly idleTimeoutMs: number;

  constructor(idleTimeoutMs: number) {
    super(`no data for ${idleTimeoutMs} ms`);
    this.idleTimeoutMs = idleTimeoutMs;
  }
}

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

/** A response whose body is kept as raw bytes, such as a snapshot archive. */
export interface ApiDownload {
  readonly body: Buffer;
  /** `X-Nomad-Index`, or null when the server sent none. */
  readonly index: number | null;
  readonly headers: IncomingHttpHeaders;
}

type Query = Readonly<Record<string, string | boolean | undefined>>;

/** Client of the Signet (and Nomad-compatible) HTTP API, used by the CLI. */
export class ApiClient {
  readonly address: string;
  /** The setting that `address` came from: `-address`, an environment variable or the default. */
  readonly addressSource: SettingSource;
  readonly #token: string;
  /** The setting that the token came from, or null when no token is sent. */
  readonly #tokenSource: SettingSource | null;
  readonly #timeoutMs: number;

  constructor(options: ApiClientOptions = {}) {
    const env = options.env ?? process.env;
    const address = firstSetting([
      ['flag', options.address],
      ['SIGNET_ADDR', env.SIGNET_ADDR],
      ['NOMAD_ADDR', env.NOMAD_ADDR],
    ]);
    this.address = normalizeAddress(address?.value ?? DEFAULT_ADDRESS);
    this.addressSource = address?.source ?? 'default';
    const token = firstSetting([
      ['flag', options.token],
      ['SIGNET_TOKEN', env.SIGNET_TOKEN],
      ['NOMAD_TOKEN', env.NOMAD_TOKEN],
    ]);
    this.#token = (token?.value ?? '').trim();
    this.#tokenSource = this.#token === '' ? null : (token?.source ?? null);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  get<T>(path: string, query: Query = {}, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, query, undefined, options);
  }

  put<T>(path: string, body?: unknown, query: Query = {}): Promise<ApiResponse<T>> {
    return this.request<T>('PUT', path, query, body);
  }

  delete<T>(path: string, query: Query = {}): Promise<ApiResponse<T>> {
    return this.request<T>('DELETE', path, query, undefined);
  }

  async request<T>(
    method: string,
    path: string,
    query: Query,
    body: unknown,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const { url, response } = await this.#exchange(method, path, query, body, options);
    const text = response.body.toString('utf8');
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ApiError(
          'INVALID_RESPONSE',
          `${method} ${url.pathname} returned a body that is not JSON; is ${this.address} a Signet or Nomad API address?`,
        );
      }
    }
    return { body: parsed as T, index: indexOf(response.headers), headers: response.headers };
  }

  /**
   * Sends GET `path` and returns the body as raw bytes, with the same token, status and error
   * handling as `get`. The whole body is held in memory.
   */
  async download(path: string, query: Query = {}, options: RequestOptions = {}): Promise<ApiDownload> {
    const { response } = await this.#exchange('GET', path, query, undefined, options);
    return { body: response.body, index: indexOf(response.headers), headers: response.headers };
  }

  /** Sends one request and returns its response, or throws ApiError for a failure or a non-2xx status. */
  async #exchange(
    method: string,
    path: string,
    query: Query,
    body: unknown,
    options: RequestOptions,
  ): Promise<{ url: URL; response: RawResponse }> {
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

    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let response: RawResponse;
    try {
      response = await send(url, method, headers, payload, {
        timeoutMs,
        idleTimeoutMs: options.idleTimeoutMs,
        callerSignal: options.signal,
      });
    } catch (err) {
      if (options.signal?.aborted === true) {
        throw new ApiError('ABORTED', `${method} ${url.pathname} to ${this.address} was cancelled`);
      }
      throw this.#transportError(method, url, err, timeoutMs);
    }

    if (response.status < 200 || response.status > 299) {
      const serverMessage = response.body.toString('utf8').trim();
      const hint = this.#statusHint(response.status, serverMessage, url);
      throw new ApiError(
        'HTTP_STATUS',
        `${method} ${url.pathname} failed with status ${response.status}: ${oneLine(serverMessage) || '(empty body)'}${hint === '' ? '' : `; ${hint}`}`,
        response.status,
        serverMessage,
      );
    }
    return { url, response };
  }

  #transportError(method: string, url: URL, err: unknown, timeoutMs: number): ApiError {
    if (err instanceof IdleTimeoutError) {
      return new ApiError(
        'TIMEOUT',
        `${method} ${url.pathname} to ${this.address} timed out: the agent sent nothing for ${err.idleTimeoutMs} ms; check that the agent is healthy`,
      );
    }
    const error = err as NodeJS.ErrnoException;
    // The only abort signal on the request is the timeout.
    if (error.name === 'AbortError' || error.name === 'TimeoutError') {
      return new ApiError(
        'TIMEOUT',
        `${method} ${url.pathname} to ${this.address} timed out after ${timeoutMs} ms; check that the agent is healthy`,
      );
    }
    const reason =
      error.code === 'ECONNREFUSED'
        ? 'connection refused'
        : error.code === 'ENOTFOUND'
          ? 'host not found'
          : error.message;
    const from =
      this.addressSource === 'default'
        ? 'the default address'
        : `set by ${settingName(this.addressSource, '-address')}`;
    return new ApiError(
      'CONNECTION_FAILED',
      `Cannot reach the Signet API at ${this.address}, ${from} (${reason}); start an agent there or set -address, SIGNET_ADDR or NOMAD_ADDR`,
    );
  }

  /** Returns the next step to suggest after an error status, or '' when the server's message is enough. */
  #statusHint(status: number, serverMessage: string, url: URL): string {
    if (status === 401 || status === 403) {
      if (this.#tokenSource === null) return 'no token was sent: set -token, SIGNET_TOKEN or NOMAD_TOKEN';
      const token = `the token set by ${settingName(this.#tokenSource, '-token')}`;
      // A capability detail follows Nomad's prefix when the token was valid but its policies fall short.
      if (serverMessage.startsWith('Permission denied: '))
        return `${token} lacks it: use a token whose policies grant it`;
      return `check ${token}`;
    }
    if (status === 404 && url.pathname === '/v1/acl/token/self') return this.#selfTokenHint();
    if (status === 404) {
      const namespace = url.searchParams.get('namespace');
      if (namespace === null) return 'check the ID, name or path';
      return `check the ID, name or path, and -namespace (the request used ${JSON.stringify(namespace)})`;
    }
    if (status === 500 && serverMessage === 'No cluster leader') {
      return 'the servers have no leader: retry once one is elected, and check them with signet server members';
    }
    return '';
  }

  /**
   * Explains a 404 from `/v1/acl/token/self`, which takes no ID. A token that the server could not
   * resolve gets 403 before this route, so a 404 means no token was sent or the token is a
   * workload identity, which has policies but no ACL token.
   */
  #selfTokenHint(): string {
    if (this.#tokenSource === null) return 'no token was sent: set -token, SIGNET_TOKEN or NOMAD_TOKEN';
    const token = `the token set by ${settingName(this.#tokenSource, '-token')}`;
    return `${token} is a workload identity, not an ACL token, so there is no ACL token to show`;
  }
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
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
  limits: {
    readonly timeoutMs: number;
    readonly idleTimeoutMs: number | undefined;
    readonly callerSignal: AbortSignal | undefined;
  },
): Promise<RawResponse> {
  const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const { timeoutMs, idleTimeoutMs, callerSignal } = limits;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal === undefined ? timeout : AbortSignal.any([timeout, callerSignal]);
  return new Promise((resolve, rejectSend) => {
    // Destroying the request in the body phase makes the response fail with a generic "aborted"
    // error, so the idle timeout is remembered and reported in its place.
    let idleError: IdleTimeoutError | null = null;
    const reject = (err: unknown): void => rejectSend(idleError ?? err);
    const req = requestFn(url, { method, headers, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (idleTimeoutMs !== undefined) {
      req.setTimeout(idleTimeoutMs, () => {
        idleError = new IdleTimeoutError(idleTimeoutMs);
        req.destroy(idleError);
      });
    }
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

/** Returns the first setting with a non-empty value, and where it came from. */
function firstSetting(
  candidates: readonly (readonly [SettingSource, string | undefined])[],
): { value: string; source: SettingSource } | null {
  for (const [source, value] of candidates) {
    if (value !== undefined && value !== '') return { value, source };
  }
  return null;
}

function settingName(source: SettingSource, flag: string): string {
  return source === 'flag' ? flag : source;
}

function indexOf(headers: IncomingHttpHeaders): number | null {
  const value = headers['x-nomad-index'];
  return typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : null;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}
