import { setTimeout as delay } from 'node:timers/promises';
import type { Prng } from '../../../test/sim/prng.js';
import { type HttpResponse, httpRequest } from '../../http-client.js';
import type {
  DeregisterEvent,
  JobCallOutcome,
  JobEvent,
  JobWorkloadConfig,
  RegisterEvent,
} from './jobs-log.js';
import {
  identityProbePath,
  JOB_NAMESPACE,
  JOB_PREFIX,
  JOB_TASK,
  jobRegistration,
  readTaskToken,
} from './jobs-spec.js';

export interface JobClientOptions {
  readonly config: JobWorkloadConfig;
  /** `host:port` of every server's HTTP API. */
  readonly addresses: readonly string[];
  /** The management token, for registrations and allocation lists. */
  readonly token: string | null;
  readonly requestTimeoutMs: number;
  readonly random: Prng;
  /** Nanoseconds since the run's origin, the clock of the variable history. */
  readonly now: () => number;
  readonly isStopping: () => boolean;
}

interface AllocationRow {
  readonly ID: string;
  readonly Name: string;
  readonly DesiredStatus: string;
  readonly ClientStatus: string;
}

/** Client statuses of an allocation that has finished on its client. */
const CLIENT_TERMINAL: ReadonlySet<string> = new Set(['complete', 'failed', 'lost']);

/**
 * Runs the job client until `isStopping()` returns true, and returns its side log. Each step
 * registers a new job (count 1 or 2), deregisters one it registered, or verifies the identities
 * of one job's running allocations on every server. A registration that timed out may have taken
 * effect, so its job stays a candidate for the other steps. The probes are only logged, because
 * during faults a server may be down or behind, and the runner judges identities after the heal.
 * An allocation list with more live allocations than the job's count, or two with one name, is
 * logged as `over-placed`: a consistent read never shows that, faults or not.
 */
export async function runJobClient(options: JobClientOptions): Promise<JobEvent[]> {
  const { config, random } = options;
  const events: JobEvent[] = [];
  const jobs: string[] = [];
  /** Count of each job this client registered. */
  const counts = new Map<string, number>();
  let sequence = 0;

  while (!options.isStopping()) {
    const slotEnd = performance.now() + config.intervalMs;
    const mayRegister = jobs.length < config.maxJobs;
    if (mayRegister && (jobs.length === 0 || random.chance(0.35))) {
      const jobId = `${JOB_PREFIX}${sequence++}`;
      const count = random.chance(0.5) ? 1 : 2;
      const event = await register(options, jobId, count);
      events.push(event);
      if (event.outcome !== 'fail') jobs.push(jobId);
      counts.set(jobId, count);
    } else if (!mayRegister || random.chance(0.3)) {
      const index = random.int(jobs.length);
      const event = await deregister(options, jobs[index]!);
      events.push(event);
      if (event.outcome === 'ok') jobs.splice(index, 1);
    } else {
      const jobId = random.pick(jobs);
      events.push(...(await verifyJob(options, jobId, counts.get(jobId)!)));
    }
    const waitMs = slotEnd - performance.now();
    if (waitMs > 0 && !options.isStopping()) await delay(waitMs);
  }
  return events;
}

async function register(options: JobClientOptions, jobId: string, count: number): Promise<RegisterEvent> {
  const server = options.random.pick(options.addresses);
  const callNs = options.now();
  const outcome = await writeOutcome(options, server, 'PUT', '/v1/jobs', jobRegistration(jobId, count));
  return { kind: 'register', jobId, count, server, callNs, returnNs: options.now(), outcome };
}

async function deregister(options: JobClientOptions, jobId: string): Promise<DeregisterEvent> {
  const server = options.random.pick(options.addresses);
  const callNs = options.now();
  const path = `/v1/job/${jobId}?namespace=${JOB_NAMESPACE}`;
  const outcome = await writeOutcome(options, server, 'DELETE', path);
  return { kind: 'deregister', jobId, server, callNs, returnNs: options.now(), outcome };
}

/**
 * Lists the job's allocations through one server, reads the token of each running one from its
 * client's folder, and sends it to every server. A list that fails yields no event, because there
 * is nothing to verify yet.
 */
async function verifyJob(options: JobClientOptions, jobId: string, count: number): Promise<JobEvent[]> {
  const server = options.random.pick(options.addresses);
  const response = await send(
    options,
    server,
    'GET',
    `/v1/job/${jobId}/allocations?namespace=${JOB_NAMESPACE}`,
  );
  if (response?.status !== 200) return [];

  const events: JobEvent[] = [];
  const rows = JSON.parse(response.body) as AllocationRow[];
  const live = rows.filter((row) => row.DesiredStatus === 'run' && !CLIENT_TERMINAL.has(row.ClientStatus));
  if (live.length > count || new Set(live.map((row) => row.Name)).size < live.length) {
    const allocIds = live.map((row) => row.ID);
    events.push({ kind: 'over-placed', jobId, count, allocIds, server, callNs: options.now() });
  }

  const running = rows.filter((row) => row.ClientStatus === 'running');
  for (const alloc of running) {
    const token = await readTaskToken(options.config.clientDataDirs, alloc.ID, JOB_TASK);
    if (token === null) {
      events.push({ kind: 'no-token', allocId: alloc.ID, task: JOB_TASK, callNs: options.now() });
      continue;
    }
    for (const address of options.addresses) {
      const callNs = options.now();
      const reply = await send(options, address, 'GET', identityProbePath(jobId), token);
      events.push({
        kind: 'verify',
        allocId: alloc.ID,
        task: JOB_TASK,
        server: address,
        callNs,
        returnNs: options.now(),
        status: reply?.status ?? null,
      });
    }
  }
  return events;
}

/**
 * Classifies a write as the variable calls are. 2xx is `ok`. A refused connection, 400 or 403 is
 * `fail`, because nothing was proposed. Anything else may have been committed, so it is `unknown`.
 */
async function writeOutcome(
  options: JobClientOptions,
  server: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<JobCallOutcome> {
  try {
    const response = await httpRequest(server, method, path, {
      timeoutMs: options.requestTimeoutMs,
      headers: authHeader(options.token),
      ...(body === undefined ? {} : { body }),
    });
    if (response.status >= 200 && response.status <= 299) return 'ok';
    return response.status === 400 || response.status === 403 ? 'fail' : 'unknown';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'fail' : 'unknown';
  }
}

/** Sends a read; returns null when no reply came (the server is down, paused or cut off). */
async function send(
  options: JobClientOptions,
  server: string,
  method: string,
  path: string,
  token: string | null = options.token,
): Promise<HttpResponse | null> {
  try {
    return await httpRequest(server, method, path, {
      timeoutMs: options.requestTimeoutMs,
      headers: authHeader(token),
    });
  } catch {
    return null;
  }
}

function authHeader(token: string | null): Record<string, string> {
  return token === null ? {} : { 'X-Nomad-Token': token };
}
