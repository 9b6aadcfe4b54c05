import { request } from 'node:http';

/** Default time limit of one HTTP request in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** Raised for a response with a status outside 2xx; `body` is the server's plain-text message. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  readonly status: number;
  readonly body: string;

  constructor(method: string, url: string, status: number, body: string) {
    super(`${method} ${url} failed with status ${status}: ${body.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

export interface RequestOptions {
  /** Sent as JSON. */
  readonly body?: unknown;
  readonly timeoutMs?: number;
  /** Extra request headers, such as X-Nomad-Token. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Sends one request to `address` (`host:port`) and reads the whole response. Each request opens
 * its own connection (no keep-alive pool), so a restarted or paused server never leaves a stale
 * pooled socket behind. Network errors and timeouts reject with Node's error (its `code` is
 * ECONNREFUSED, ECONNRESET, ABORT_ERR and so on); every status resolves.
 */
export function httpRequest(
  address: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<HttpResponse> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const [host, port] = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method,
        path,
        agent: false,
        signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
        headers: {
          ...options.headers,
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Sends a request and parses the JSON body; rejects HttpStatusError unless the status is 2xx. */
export async function requestJson<T>(
  address: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const response = await httpRequest(address, method, path, options);
  if (response.status < 200 || response.status > 299) {
    throw new HttpStatusError(method, `http://${address}${path}`, response.status, response.body);
  }
  return (response.body === '' ? null : JSON.parse(response.body)) as T;
}

/** Splits `host:port`; an IPv6 host comes in brackets, as in `[::1]:4646`. */
export function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid address ${JSON.stringify(address)}: expected host:port`);
  }
  return [host, port];
}
