import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { requestJson, splitAddress } from '../cluster/http-client.js';
import { Cluster, type ServerHandle } from '../cluster/launcher.js';
import { done, waitFor } from '../cluster/wait.js';

/**
 * Variable writes per second on a 3-server cluster (separate processes started by the launcher,
 * fsync on, ACLs enabled and bootstrapped), through the HTTP API: `PUT /v1/var/:path` with the
 * management token, so each write is authenticated, authorized, encrypted and committed through
 * Raft. Each case runs CASE_MS with IN_FLIGHT writers, through the leader and through a follower,
 * which forwards the write to the leader. The client keeps its connections open, as Nomad's API
 * client does. Every write creates a new path with new items, because a server commits no Raft
 * entry for a write of unchanged items.
 */
const IN_FLIGHT = [1, 8, 32] as const;
const CASE_MS = 3_000;
const WARMUP_WRITES = 50;
const REQUEST_TIMEOUT_MS = 10_000;

interface CaseResult {
  readonly writes: number;
  readonly elapsedMs: number;
  /** Latency of each write in ms, in completion order. */
  readonly latenciesMs: number[];
}

/** Sends one variable write over `agent` and raises unless the server replies 200. */
function putVariable(agent: Agent, address: string, token: string, path: string): Promise<void> {
  const [host, port] = splitAddress(address);
  const body = JSON.stringify({ Items: { password: randomBytes(16).toString('hex'), path } });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method: 'PUT',
        path: `/v1/var/${path}`,
        agent,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        headers: { 'content-type': 'application/json', 'x-nomad-token': token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode === 200) return resolve();
          const text = Buffer.concat(chunks).toString('utf8').slice(0, 300);
          reject(
            new Error(`PUT /v1/var/${path} on ${address} failed with status ${res.statusCode}: ${text}`),
          );
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `inFlight` writers against `server` for CASE_MS, each sending its next write when the last returns. */
async function runCase(
  server: ServerHandle,
  token: string,
  label: string,
  inFlight: number,
): Promise<CaseResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  try {
    for (let i = 0; i < WARMUP_WRITES; i++) {
      await putVariable(agent, server.httpAddr, token, `bench/warmup/${label}-${inFlight}/${i}`);
    }
    const latenciesMs: number[] = [];
    const started = performance.now();
    const deadline = started + CASE_MS;
    // Set by the first failed write, so that the other writers stop too.
    let failed = false;
    const writer = async (worker: number) => {
      for (let n = 0; !failed && performance.now() < deadline; n++) {
        const sent = performance.now();
        try {
          await putVariable(agent, server.httpAddr, token, `bench/${label}-${inFlight}/${worker}/${n}`);
        } catch (err) {
          failed = true;
          throw err;
        }
        latenciesMs.push(performance.now() - sent);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, (_, worker) => writer(worker)));
    return { writes: latenciesMs.length, elapsedMs: performance.now() - started, latenciesMs };
  } finally {
    agent.destroy();
  }
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

function formatCase(target: string, inFlight: number, result: CaseResult): string {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const rate = Math.round(result.writes / (result.elapsedMs / 1000));
  return `variable writes through the ${target}, ${inFlight} in flight, 3 servers, ACLs on: ${rate} writes/s (${result.writes} in ${(result.elapsedMs / 1000).toFixed(1)} s), p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms`;
}

/** Waits until `server` has applied the bootstrap token, so that it authenticates it. */
function waitForToken(server: ServerHandle, token: string): Promise<void> {
  return waitFor(
    `${server.name} to know the management token`,
    { timeoutMs: 10_000, intervalMs: 20 },
    async () => {
      await requestJson(server.httpAddr, 'GET', '/v1/acl/token/self', {
        headers: { 'X-Nomad-Token': token },
      });
      return done(undefined);
    },
  );
}

export async function runVariableWritesBench(): Promise<string[]> {
  const cluster = await Cluster.start({ servers: 3, acl: true, startTimeoutMs: 90_000, logLevel: 'warn' });
  try {
    const leader = await cluster.waitForLeader(60_000);
    const follower = cluster.servers().find((server) => server !== leader)!;
    // With acl: true the launcher bootstraps the ACLs itself.
    const token = cluster.managementToken!;
    await waitForToken(follower, token);

    const lines: string[] = [];
    for (const [target, server] of [
      ['leader', leader],
      ['follower', follower],
    ] as const) {
      for (const inFlight of IN_FLIGHT) {
        lines.push(formatCase(target, inFlight, await runCase(server, token, target, inFlight)));
      }
    }
    const leaderAfter = await cluster.waitForLeader(10_000);
    if (leaderAfter !== leader) {
      lines.push(
        `variable writes: the leader changed from ${leader.name} to ${leaderAfter.name} during the run, so the cases above mix leader and follower`,
      );
    }
    return lines;
  } finally {
    await cluster.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runVariableWritesBench()) console.log(line);
}
