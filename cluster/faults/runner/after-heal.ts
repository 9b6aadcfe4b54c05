import { setTimeout as delay } from 'node:timers/promises';
import { Prng } from '../../../test/sim/prng.js';
import { httpRequest } from '../../http-client.js';
import type { Cluster, ServerHandle } from '../../launcher.js';
import { done, pending, WaitTimeoutError, waitFor } from '../../wait.js';
import type { History } from '../history.js';
import type { HistoryRecorder } from '../workload/recorder.js';
import { sendVariableCall, WORKLOAD_NAMESPACE } from '../workload/variable-call.js';
import type { LostWrite } from './check-step.js';

/** Pause between recovery write attempts, in ms. */
const RETRY_MS = 100;

/**
 * Process ids for the runner's own calls, in a range the load process never reaches, so the
 * history never shows two processes' calls as one.
 */
export class RunnerProcesses {
  #next: number;

  constructor(first: number) {
    this.#next = first;
  }

  take(): number {
    return this.#next++;
  }
}

export interface ProbeContext {
  readonly cluster: Cluster;
  readonly recorder: HistoryRecorder;
  readonly processes: RunnerProcesses;
  readonly requestTimeoutMs: number;
}

/** Time from the end of the faults to an agreed leader and to the first acknowledged write, in ms. */
export interface Recovery {
  /** Null when the running servers did not agree on a leader within the bound. */
  readonly leaderMs: number | null;
  /** Null when no write was acknowledged within the bound. */
  readonly writeMs: number | null;
}

/**
 * Waits until the running servers agree on a leader, then writes `key` through random running
 * servers until one write is acknowledged, all within `boundMs`. Every attempt goes into the
 * history, so the checker also judges these writes against the reads after them.
 */
export async function waitForRecovery(
  context: ProbeContext,
  key: string,
  boundMs: number,
): Promise<Recovery> {
  const started = performance.now();
  try {
    await context.cluster.waitForLeader(boundMs, 20);
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    return { leaderMs: null, writeMs: null };
  }
  const leaderMs = performance.now() - started;

  const random = new Prng(0, 0x7ec0);
  let process = context.processes.take();
  for (let attempt = 0; performance.now() - started < boundMs; attempt++) {
    const live = context.cluster.live();
    if (live.length > 0) {
      const call = { kind: 'put', key, value: `recovery-${attempt}` } as const;
      const server = random.pick(live);
      const callNs = context.recorder.now();
      const result = await sendVariableCall(target(context, server), call);
      context.recorder.record(process, call, callNs, context.recorder.now(), result);
      if (result.outcome === 'ok') return { leaderMs, writeMs: performance.now() - started };
      if (result.outcome === 'unknown') process = context.processes.take();
    }
    await delay(RETRY_MS);
  }
  return { leaderMs, writeMs: null };
}

/**
 * Reads every key once through every running server, in turn, and records the reads. These last
 * reads make the checker compare the final state of each key with every acknowledged write.
 */
export async function readEveryKey(context: ProbeContext, keys: readonly string[]): Promise<void> {
  const process = context.processes.take();
  for (const server of context.cluster.live()) {
    for (const key of keys) {
      const call = { kind: 'get', key } as const;
      const callNs = context.recorder.now();
      const result = await sendVariableCall(target(context, server), call);
      context.recorder.record(process, call, callNs, context.recorder.now(), result);
    }
  }
}

interface VariableListItem {
  readonly Path: string;
  readonly ModifyIndex: number;
}

/**
 * Returns the acknowledged write-once writes under `prefix` that some running server does not
 * hold at the acknowledged ModifyIndex. Each server is read with `stale=true`, its own copy, and
 * given until `timeoutMs` to catch up before what it lacks counts as lost.
 */
export async function findLostWrites(
  context: ProbeContext,
  history: History,
  prefix: string,
  timeoutMs: number,
): Promise<LostWrite[]> {
  const acknowledged = new Map<string, number>();
  for (const operation of history.operations) {
    if (operation.kind === 'put' && operation.outcome === 'ok' && operation.key.startsWith(`${prefix}/`)) {
      acknowledged.set(operation.key, operation.output!.index);
    }
  }
  const lost: LostWrite[] = [];
  for (const server of context.cluster.live()) {
    lost.push(...(await missingOn(context, server, prefix, acknowledged, timeoutMs)));
  }
  return lost;
}

async function missingOn(
  context: ProbeContext,
  server: ServerHandle,
  prefix: string,
  acknowledged: ReadonlyMap<string, number>,
  timeoutMs: number,
): Promise<LostWrite[]> {
  const query = new URLSearchParams({ namespace: WORKLOAD_NAMESPACE, prefix, stale: 'true' });
  const missing = async (): Promise<LostWrite[]> => {
    const response = await httpRequest(server.httpAddr, 'GET', `/v1/vars?${query}`, {
      headers: context.cluster.authHeaders(),
      timeoutMs: context.requestTimeoutMs,
    });
    if (response.status !== 200)
      throw new Error(`GET /v1/vars on ${server.name} returned ${response.status}`);
    const present = new Map(
      (JSON.parse(response.body) as VariableListItem[]).map((v) => [v.Path, v.ModifyIndex]),
    );
    const result: LostWrite[] = [];
    for (const [key, index] of acknowledged) {
      const found = present.get(key) ?? null;
      if (found !== index) result.push({ server: server.name, key, index, found });
    }
    return result;
  };
  let last: LostWrite[] | null = null;
  try {
    await waitFor(
      `${server.name} to hold every acknowledged write`,
      { timeoutMs, intervalMs: 200 },
      async () => {
        last = await missing();
        return last.length === 0 ? done(undefined) : pending(`${last.length} missing`);
      },
    );
    return [];
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    // A server that never replied proves nothing either way, so the run cannot pass.
    if (last === null) throw new Error(`cannot check ${server.name} for lost writes: ${err.lastStatus}`);
    return last;
  }
}

function target(context: ProbeContext, server: ServerHandle) {
  return {
    address: server.httpAddr,
    token: context.cluster.managementToken,
    timeoutMs: context.requestTimeoutMs,
  };
}
