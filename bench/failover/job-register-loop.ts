import { request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Child process, the load of the failover benchmark. Each of `loops` concurrent loops registers a
 * new small job (`PUT /v1/jobs`, one allocation of one mock task) on a server picked at random,
 * and sends the next one `pauseMs` after the last returned. A failed request (the killed server
 * refuses the connection, or a survivor found no leader within its hold time) is retried after
 * RETRY_PAUSE_MS on a server picked at random, so registrations resume as soon as the survivors
 * elect a leader. It runs until its stdin closes, then prints the counts as one JSON line and exits.
 */
export interface JobRegisterConfig {
  /** HTTP addresses (host:port) of every server, the killed one included. */
  readonly servers: readonly string[];
  readonly token: string | null;
  readonly loops: number;
  readonly pauseMs: number;
  /** Start of every job ID. */
  readonly prefix: string;
}

export interface JobRegisterSummary {
  readonly registered: number;
  /** Failed registrations by reason: `status 500`, `ECONNREFUSED`, `timeout`... */
  readonly failures: Readonly<Record<string, number>>;
}

const REQUEST_TIMEOUT_MS = 10_000;
/** Pause after a failure, short so that the first registration after an election goes out at once. */
const RETRY_PAUSE_MS = 10;

const config = JSON.parse(process.argv[2] ?? '{}') as JobRegisterConfig;
/** Aborted when stdin closes, which ends the requests in flight at once. */
const stop = new AbortController();
let sequence = 0;
let registered = 0;
const failures: Record<string, number> = {};

function jobBody(id: string): string {
  return JSON.stringify({
    Job: {
      ID: id,
      Type: 'service',
      TaskGroups: [
        {
          Name: 'g',
          Count: 1,
          Tasks: [{ Name: 't', Driver: 'mock', Config: {}, Resources: { CPU: 20, MemoryMB: 20 } }],
        },
      ],
    },
  });
}

/** Registers one job on `server`; resolves with null on success or the failure's reason. */
function register(server: string, id: string): Promise<string | null> {
  const colon = server.lastIndexOf(':');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (config.token !== null) headers['x-nomad-token'] = config.token;
  return new Promise((resolve) => {
    const req = request(
      {
        host: server.slice(0, colon),
        port: Number(server.slice(colon + 1)),
        method: 'PUT',
        path: '/v1/jobs',
        headers,
        agent: false,
        signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), stop.signal]),
      },
      (res) => {
        res.resume();
        res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        res.on('end', () => resolve(res.statusCode === 200 ? null : `status ${res.statusCode}`));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve(err.name === 'AbortError' ? 'timeout' : (err.code ?? err.message)),
    );
    req.end(jobBody(id));
  });
}

async function loop(): Promise<void> {
  while (!stop.signal.aborted) {
    const server = config.servers[Math.floor(Math.random() * config.servers.length)]!;
    const failure = await register(server, `${config.prefix}-${sequence++}`);
    if (stop.signal.aborted) return;
    if (failure === null) {
      registered++;
      await delay(config.pauseMs);
    } else {
      failures[failure] = (failures[failure] ?? 0) + 1;
      await delay(RETRY_PAUSE_MS);
    }
  }
}

process.stdin.resume();
process.stdin.on('end', () => stop.abort());
await Promise.all(Array.from({ length: config.loops }, () => loop()));
const summary: JobRegisterSummary = { registered, failures };
console.log(JSON.stringify(summary));
