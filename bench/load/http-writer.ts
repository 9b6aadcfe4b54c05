import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { summarize } from './child.js';
import { sumCpuTimeMs } from './process-cpu.js';

/**
 * Child process, the load generator: `writers` concurrent writers each send their next write when
 * the last one returns, first for `warmupMs` (not counted), then for `durationMs`, and it prints
 * the latency summary of the measured writes as one JSON line. Every write goes to a new key, with
 * a new random value of `valueBytes`:
 * - signet: `PUT /v1/var/<key>` with the ACL token, items `{ value }`;
 * - etcd: `POST /v3/kv/put` on the v3 HTTP/JSON gateway, key and value in base64.
 */
export interface HttpWriterConfig {
  readonly system: 'signet' | 'etcd';
  readonly host: string;
  readonly port: number;
  readonly token: string | null;
  readonly writers: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly valueBytes: number;
  readonly keyPrefix: string;
  /** Server processes whose CPU time (user + system) over the measured writes is reported. */
  readonly serverPids: readonly number[];
}

/** The latency summary of the measured writes, with the servers' CPU time spent on them. */
export type HttpWriterResult = ReturnType<typeof summarize> & { readonly serverCpuMs: number | null };

const REQUEST_TIMEOUT_MS = 15_000;

const config = JSON.parse(process.argv[2] ?? '{}') as HttpWriterConfig;
const agent = new Agent({ keepAlive: true, maxSockets: config.writers });

/** Builds the method, path, headers and body of one write of `key`. */
function writeRequest(key: string): {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
} {
  if (config.system === 'signet') {
    // Hex doubles the length, so valueBytes / 2 random bytes give a value of valueBytes characters.
    const value = randomBytes(Math.ceil(config.valueBytes / 2))
      .toString('hex')
      .slice(0, config.valueBytes);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (config.token !== null) headers['x-nomad-token'] = config.token;
    return { method: 'PUT', path: `/v1/var/${key}`, headers, body: JSON.stringify({ Items: { value } }) };
  }
  const body = JSON.stringify({
    key: Buffer.from(key).toString('base64'),
    value: randomBytes(config.valueBytes).toString('base64'),
  });
  return { method: 'POST', path: '/v3/kv/put', headers: { 'content-type': 'application/json' }, body };
}

/** Sends one write and raises unless the server replies 200. */
function write(key: string): Promise<void> {
  const { method, path, headers, body } = writeRequest(key);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: config.host,
        port: config.port,
        method,
        path,
        headers,
        agent,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 200) return resolve();
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 300);
          reject(new Error(`${method} ${path} failed with status ${res.statusCode}: ${text}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs every writer until `deadline`; returns the latency of each write, in ms. */
async function runPhase(phase: string, deadline: number): Promise<number[]> {
  const latenciesMs: number[] = [];
  // Set by the first failed write, so that the other writers stop too.
  let failed = false;
  const writer = async (worker: number) => {
    for (let n = 0; !failed && performance.now() < deadline; n++) {
      const sent = performance.now();
      try {
        await write(`${config.keyPrefix}/${phase}/${worker}/${n}`);
      } catch (err) {
        failed = true;
        throw err;
      }
      latenciesMs.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: config.writers }, (_, worker) => writer(worker)));
  return latenciesMs;
}

try {
  await runPhase('warmup', performance.now() + config.warmupMs);
  const cpuBefore = sumCpuTimeMs(config.serverPids);
  const started = performance.now();
  const latenciesMs = await runPhase('measured', started + config.durationMs);
  const elapsedMs = performance.now() - started;
  const cpuAfter = sumCpuTimeMs(config.serverPids);
  const serverCpuMs = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
  const result: HttpWriterResult = { ...summarize(latenciesMs, elapsedMs), serverCpuMs };
  console.log(JSON.stringify(result));
} finally {
  agent.destroy();
}
