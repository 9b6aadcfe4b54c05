import { httpRequest, requestJson } from '../../http-client.js';
import type { Cluster, ServerHandle } from '../../launcher.js';
import { done, pending, WaitTimeoutError, waitFor } from '../../wait.js';
import {
  IDENTITY_REFUSED,
  identityAccepted,
  identityProbePath,
  JOB_NAMESPACE,
  JOB_PREFIX,
  JOB_TASK,
  readTaskToken,
} from '../workload/jobs-spec.js';
import type { AllocationSeen, IdentityReply, JobEvidence, JobSeen } from './job-checks.js';

export interface JobEvidenceOptions {
  readonly cluster: Cluster;
  /** Data folders of the client agents, where each task's identity file lies. */
  readonly clientDataDirs: readonly string[];
  readonly requestTimeoutMs: number;
  /** Time for the jobs to reach their counts, and for the allocations to finish after the stop, in ms. */
  readonly settleMs: number;
  /** Time each server gets to catch up before a reply to an identity counts against it, in ms. */
  readonly catchUpMs: number;
}

interface JobRow {
  readonly ID: string;
  readonly Stop: boolean;
  readonly TaskGroups: readonly { readonly Name: string; readonly Count: number }[];
}

interface AllocationRow {
  readonly ID: string;
  readonly Name: string;
  readonly JobID: string;
  readonly TaskGroup: string;
  readonly DesiredStatus: string;
  readonly ClientStatus: string;
  readonly SigningKeyID?: string;
}

interface Snapshot {
  readonly jobs: readonly JobSeen[];
  readonly allocations: readonly AllocationRow[];
}

const CLIENT_TERMINAL: ReadonlySet<string> = new Set(['complete', 'failed', 'lost']);

/**
 * Gathers the evidence of the job checks after the heal, in four steps. (1) Waits until every
 * registered job has its count of running allocations, and takes the jobs and allocations as the
 * leader has them. (2) Sends the identity of every running allocation to every server until each
 * accepts it. (3) Stops every job and waits until every allocation has finished on its client.
 * (4) Sends every identity still on the clients' disks to every server until each refuses it.
 * Each server gets `catchUpMs` to apply what it lags behind; what it still gets wrong after that
 * is evidence.
 */
export async function collectJobEvidence(
  options: JobEvidenceOptions,
): Promise<Omit<JobEvidence, 'overPlacedDuringRun'>> {
  const { snapshot, settled } = await settle(options);
  const allocations = await describeAllocations(options, snapshot.allocations);

  const running = allocations.filter((alloc) => alloc.clientStatus === 'running');
  const runningTokens = await tokensOf(options, running);
  const refusedWhileRunning = await expectOnEveryServer(options, runningTokens, 'accepted');

  await stopEveryJob(options, snapshot.jobs);
  const { allocations: stopped, unfinished } = await waitUntilFinished(options);
  const terminalTokens = await tokensOf(
    options,
    stopped
      .filter((alloc) => CLIENT_TERMINAL.has(alloc.ClientStatus))
      .map((alloc) => ({ id: alloc.ID, jobId: alloc.JobID })),
  );
  // A probe that got no reply, or a 5xx, proves nothing either way, so only an acceptance counts.
  const acceptedAfterTerminal = (await expectOnEveryServer(options, terminalTokens, 'refused')).filter(
    (reply) => identityAccepted(reply.status),
  );
  return {
    jobs: snapshot.jobs,
    allocations,
    settled,
    refusedWhileRunning,
    notStopped: unfinished,
    acceptedAfterTerminal,
    checkedRunning: runningTokens.length,
    checkedTerminal: terminalTokens.length,
  };
}

async function leaderAddress(options: JobEvidenceOptions): Promise<string> {
  return (await options.cluster.waitForLeader(options.settleMs)).httpAddr;
}

async function readSnapshot(options: JobEvidenceOptions, address: string): Promise<Snapshot> {
  const request = { headers: options.cluster.authHeaders(), timeoutMs: options.requestTimeoutMs };
  const query = new URLSearchParams({ namespace: JOB_NAMESPACE, prefix: JOB_PREFIX });
  const stubs = await requestJson<{ ID: string }[]>(address, 'GET', `/v1/jobs?${query}`, request);
  const jobs: JobSeen[] = [];
  for (const stub of stubs) {
    const job = await requestJson<JobRow>(
      address,
      'GET',
      `/v1/job/${stub.ID}?namespace=${JOB_NAMESPACE}`,
      request,
    );
    const counts = Object.fromEntries(job.TaskGroups.map((group) => [group.Name, group.Count]));
    jobs.push({ id: job.ID, stop: job.Stop, counts });
  }
  const all = await requestJson<AllocationRow[]>(
    address,
    'GET',
    `/v1/allocations?namespace=${JOB_NAMESPACE}`,
    request,
  );
  return { jobs, allocations: all.filter((alloc) => alloc.JobID.startsWith(JOB_PREFIX)) };
}

/** Returns why the snapshot is not settled yet, or null when every job runs its count and nothing else runs. */
function unsettledReason(snapshot: Snapshot): string | null {
  for (const job of snapshot.jobs) {
    for (const [group, count] of Object.entries(job.counts)) {
      const allocs = snapshot.allocations.filter((a) => a.JobID === job.id && a.TaskGroup === group);
      const live = allocs.filter((a) => a.DesiredStatus === 'run' && !CLIENT_TERMINAL.has(a.ClientStatus));
      const wanted = job.stop ? 0 : count;
      if (live.length !== wanted)
        return `${job.id} group ${group}: ${live.length} live allocations, want ${wanted}`;
      const notRunning = live.find((a) => a.ClientStatus !== 'running');
      if (notRunning !== undefined) return `${notRunning.Name} is ${notRunning.ClientStatus}`;
    }
    const stopping = snapshot.allocations.find(
      (a) => a.JobID === job.id && a.DesiredStatus !== 'run' && !CLIENT_TERMINAL.has(a.ClientStatus),
    );
    if (stopping !== undefined) return `${stopping.Name} is still stopping`;
  }
  return null;
}

async function settle(options: JobEvidenceOptions): Promise<{ snapshot: Snapshot; settled: boolean }> {
  let last: Snapshot | null = null;
  try {
    const snapshot = await waitFor<Snapshot>(
      'the jobs to run their counts',
      { timeoutMs: options.settleMs, intervalMs: 250 },
      async () => {
        last = await readSnapshot(options, await leaderAddress(options));
        const reason = unsettledReason(last);
        return reason === null ? done(last) : pending(reason);
      },
    );
    return { snapshot, settled: true };
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    if (last === null) throw new Error(`cannot read the jobs after the heal: ${err.lastStatus}`);
    return { snapshot: last, settled: false };
  }
}

/** Adds what the list leaves out: the signing key of each allocation, and which tasks hold no token. */
async function describeAllocations(
  options: JobEvidenceOptions,
  rows: readonly AllocationRow[],
): Promise<AllocationSeen[]> {
  const address = await leaderAddress(options);
  const seen: AllocationSeen[] = [];
  for (const row of rows) {
    const full = await requestJson<AllocationRow>(address, 'GET', `/v1/allocation/${row.ID}`, {
      headers: options.cluster.authHeaders(),
      timeoutMs: options.requestTimeoutMs,
    });
    const token = await readTaskToken(options.clientDataDirs, row.ID, JOB_TASK);
    seen.push({
      id: row.ID,
      name: row.Name,
      jobId: row.JobID,
      group: row.TaskGroup,
      desiredStatus: row.DesiredStatus,
      clientStatus: row.ClientStatus,
      signingKeyId: full.SigningKeyID ?? '',
      tasksWithoutToken: token === null ? [JOB_TASK] : [],
    });
  }
  return seen;
}

type ProbeVerdict = 'accepted' | 'refused';

interface HeldToken {
  readonly allocId: string;
  readonly jobId: string;
  readonly token: string;
}

async function tokensOf(
  options: JobEvidenceOptions,
  allocations: readonly { readonly id: string; readonly jobId: string }[],
): Promise<HeldToken[]> {
  const held: HeldToken[] = [];
  for (const { id, jobId } of allocations) {
    const token = await readTaskToken(options.clientDataDirs, id, JOB_TASK);
    if (token !== null) held.push({ allocId: id, jobId, token });
  }
  return held;
}

/**
 * Probes every token on every running server until each gives the `expected` verdict on all, or
 * the catch-up time ends. Returns the last reply of each server that never did.
 */
async function expectOnEveryServer(
  options: JobEvidenceOptions,
  tokens: readonly HeldToken[],
  expected: ProbeVerdict,
): Promise<IdentityReply[]> {
  const wrong: IdentityReply[] = [];
  for (const server of options.cluster.live()) {
    let last: IdentityReply[] = [];
    try {
      await waitFor(
        `${server.name} to have ${expected} every identity`,
        { timeoutMs: options.catchUpMs, intervalMs: 200 },
        async () => {
          last = await wrongReplies(options, server, tokens, expected);
          return last.length === 0 ? done(undefined) : pending(`${last.length} other replies`);
        },
      );
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      wrong.push(...last);
    }
  }
  return wrong;
}

async function wrongReplies(
  options: JobEvidenceOptions,
  server: ServerHandle,
  tokens: readonly HeldToken[],
  expected: ProbeVerdict,
): Promise<IdentityReply[]> {
  const wrong: IdentityReply[] = [];
  for (const { allocId, jobId, token } of tokens) {
    let status: number | null = null;
    try {
      const response = await httpRequest(server.httpAddr, 'GET', identityProbePath(jobId), {
        headers: { 'X-Nomad-Token': token },
        timeoutMs: options.requestTimeoutMs,
      });
      status = response.status;
    } catch {
      status = null;
    }
    const verdict: ProbeVerdict | null = identityAccepted(status)
      ? 'accepted'
      : status === IDENTITY_REFUSED
        ? 'refused'
        : null;
    if (verdict !== expected) wrong.push({ allocId, task: JOB_TASK, server: server.name, status });
  }
  return wrong;
}

async function stopEveryJob(options: JobEvidenceOptions, jobs: readonly JobSeen[]): Promise<void> {
  for (const job of jobs) {
    if (job.stop) continue;
    await waitFor(`job ${job.id} to stop`, { timeoutMs: options.settleMs, intervalMs: 200 }, async () => {
      const response = await httpRequest(
        await leaderAddress(options),
        'DELETE',
        `/v1/job/${job.id}?namespace=${JOB_NAMESPACE}`,
        {
          headers: options.cluster.authHeaders(),
          timeoutMs: options.requestTimeoutMs,
        },
      );
      return response.status === 200 ? done(undefined) : pending(`status ${response.status}`);
    });
  }
}

async function waitUntilFinished(
  options: JobEvidenceOptions,
): Promise<{ allocations: readonly AllocationRow[]; unfinished: string[] }> {
  let last: Snapshot | null = null;
  const unfinishedOf = (snapshot: Snapshot) =>
    snapshot.allocations.filter((a) => !CLIENT_TERMINAL.has(a.ClientStatus)).map((a) => a.ID);
  try {
    const snapshot = await waitFor<Snapshot>(
      'every allocation to finish',
      { timeoutMs: options.settleMs, intervalMs: 250 },
      async () => {
        last = await readSnapshot(options, await leaderAddress(options));
        const left = unfinishedOf(last);
        return left.length === 0 ? done(last) : pending(`${left.length} allocations not finished`);
      },
    );
    return { allocations: snapshot.allocations, unfinished: [] };
  } catch (err) {
    if (!(err instanceof WaitTimeoutError) || last === null) throw err;
    return { allocations: (last as Snapshot).allocations, unfinished: unfinishedOf(last) };
  }
}
