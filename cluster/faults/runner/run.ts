import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Cluster } from '../../launcher.js';
import type { FaultKind } from '../faults/fault.js';
import { HarnessError } from '../harness-error.js';
import { type History, validateHistory, writeHistoryFile } from '../history.js';
import { setUpNetwork } from '../net/run-network.js';
import { setUpSyncRecording } from '../unsynced/run-recording.js';
import { placeUnderRecording } from '../unsynced/sync-recording.js';
import { HistoryRecorder, monotonicNs, RUNNER_FIRST_PROCESS } from '../workload/recorder.js';
import {
  findLostWrites,
  type Recovery,
  RunnerProcesses,
  readEveryKey,
  waitForRecovery,
} from './after-heal.js';
import { type Crash, judgeRun, type RunViolation } from './check-step.js';
import { healEverything, type InjectedFault, runFaultSchedule, seconds } from './fault-loop.js';
import { JOB_CLIENTS, type JobRunSummary, jobWorkload, runJobChecks } from './job-step.js';
import { LoadProcessHandle } from './load-process-handle.js';
import { planFaults } from './schedule.js';

export interface FaultRunOptions {
  readonly seed: number;
  /** How long the faults and the load run, in seconds; the heal and the checks come after. */
  readonly durationS: number;
  readonly faults: readonly FaultKind[];
  readonly servers: number;
  /** Concurrent clients in the load process. */
  readonly clients: number;
  /** Target rate of variable calls over all clients, per second. */
  readonly ratePerSecond: number;
  /** A call that gets no reply in this time is recorded as `unknown`, in ms. */
  readonly requestTimeoutMs: number;
  /** After the heal, a write must be acknowledged within this time, in ms. */
  readonly recoveryBoundMs: number;
  /** Folder for the history files; default: the cluster's temporary folder, kept only on a violation. */
  readonly outDir?: string | undefined;
  /** Run client agents, register jobs and check their placements and identities. Default true. */
  readonly jobs?: boolean;
  /** True when the user listed the faults: a listed network fault this machine lacks is an error. */
  readonly faultsListed?: boolean;
  readonly log: (line: string) => void;
}

export interface FaultRunResult {
  readonly operations: number;
  readonly faults: readonly InjectedFault[];
  readonly violations: readonly RunViolation[];
  /** The history file, or null when it was in the cluster's folder, which a run without violations removes. */
  readonly historyFile: string | null;
  /** The servers' folders when kept after a violation, else null. */
  readonly keptClusterRoot: string | null;
  /** Counts of the job step, or null when the run had no jobs. */
  readonly jobs: JobRunSummary | null;
}

/** Variables that every client reads and writes; few, so that clients contend on each. */
const REGISTER_KEYS = ['faults/register-1', 'faults/register-2', 'faults/register-3', 'faults/register-4'];
const LEDGER_PREFIX = 'faults/ledger';
const RECOVERY_KEY = 'faults/recovery';
/** First id of the runner's own calls, far above what one load process uses. */
const RUNNER_FIRST_ID = 1_000_000_000;
/** Time every server gets to catch up on the acknowledged writes after the heal, in ms. */
const CATCH_UP_MS = 30_000;
const PROGRESS_INTERVAL_MS = 5_000;

/**
 * Runs the fault suite once. It starts a cluster with ACLs on, starts the load process, injects
 * the seeded schedule of faults while the load runs, then heals every server and stops the load.
 * After the heal it requires a write within the recovery bound, reads every key through every
 * server, and looks for acknowledged writes missing on any server. Last, it writes the history
 * and judges the run. Every process it started is stopped on the way out, also when a step raises.
 */
export async function runFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const originNs = monotonicNs();
  const crashes: Crash[] = [];
  const { log } = options;

  const sync = await setUpSyncRecording({
    kinds: options.faults,
    kindsListed: options.faultsListed ?? true,
    log,
  });
  const { network, kinds, delayProxies, basePort } = await setUpNetwork({
    seed: options.seed,
    servers: options.servers,
    kinds: sync.kinds,
    kindsListed: options.faultsListed ?? true,
    log,
  }).catch(async (err: unknown) => {
    await sync.recording?.close();
    throw err;
  });
  const cluster = await Cluster.start({
    servers: options.servers,
    placeServer: placeUnderRecording(
      sync.recording,
      network === null ? undefined : (name: string) => network.placement(name),
    ),
    basePort,
    clients: options.jobs === false ? 0 : JOB_CLIENTS,
    acl: true,
    // A client agent that dies under server faults is as much a failure as a server that does.
    onUnexpectedExit: (agent, exit) => {
      crashes.push({ agent: agent.name, code: exit.code, signal: exit.signal, logPath: agent.logPath });
      log(`${agent.name} exited by itself (code ${exit.code}, signal ${exit.signal}); log: ${agent.logPath}`);
    },
  }).catch(async (err: unknown) => {
    await delayProxies?.stop();
    await network?.remove();
    await sync.recording?.close();
    throw err;
  });
  sync.recording?.attach(cluster);
  // By default the history lives in the cluster's folder, which the launcher removes when the run
  // passes or is interrupted, and keeps beside the servers' logs on a violation.
  const outDir = options.outDir ?? cluster.root;
  const historyFile = join(outDir, `history-seed-${options.seed}.json`);
  const jobs = options.jobs === false ? undefined : jobWorkload(cluster, outDir);
  let load: LoadProcessHandle | null = null;
  let keep = false;
  try {
    await mkdir(outDir, { recursive: true });
    // A server without the shim records nothing, and lose-unsynced could never roll it back.
    await sync.recording?.requireLoaded(cluster.servers());
    const leader = await cluster.waitForLeader(60_000);
    log(
      `${options.servers} servers up in ${cluster.root}, leader ${leader.name}; history goes to ${historyFile}`,
    );

    load = LoadProcessHandle.start(
      {
        seed: options.seed,
        originNs: originNs.toString(),
        addresses: cluster.servers().map((server) => server.httpAddr),
        token: cluster.managementToken,
        clients: options.clients,
        registerKeys: REGISTER_KEYS,
        ledgerPrefix: LEDGER_PREFIX,
        ratePerSecond: options.ratePerSecond,
        requestTimeoutMs: options.requestTimeoutMs,
        historyFile: join(outDir, 'load-history.json'),
        progressIntervalMs: PROGRESS_INTERVAL_MS,
        jobs,
      },
      (counts) =>
        log(`operations=${counts.operations} ok=${counts.ok} fail=${counts.fail} unknown=${counts.unknown}`),
    );

    const durationMs = options.durationS * 1000;
    const started = performance.now();
    const plan = planFaults({ seed: options.seed, kinds, durationMs });
    const faults = await runFaultSchedule(cluster, plan, { seed: options.seed, durationMs, network }, log);
    await healEverything(cluster);
    await network?.healAll();
    // A dead proxy cut its server off from every peer, so what the run saw is not what it planned.
    const deadProxies = delayProxies?.crashed() ?? [];
    if (deadProxies.length > 0) throw new HarnessError(`${deadProxies.join('; ')} during the run`);
    await delayProxies?.clear();
    const left = durationMs - (performance.now() - started);
    if (left > 0) await delay(left);

    // The wait for a leader and a write starts with the load's stop, so that the calls the load
    // still has in flight do not count against the recovery bound.
    const recorder = new HistoryRecorder(originNs, RUNNER_FIRST_ID);
    const context = {
      cluster,
      recorder,
      processes: new RunnerProcesses(RUNNER_FIRST_PROCESS),
      requestTimeoutMs: options.requestTimeoutMs,
    };
    log(`faults over after ${seconds(performance.now() - started)}: every server healed, stopping the load`);
    const [stopped, recovery] = await Promise.all([
      load.stop(),
      waitForRecovery(context, RECOVERY_KEY, options.recoveryBoundMs),
    ]);
    log(describeRecovery(recovery, options.recoveryBoundMs));
    await readEveryKey(context, [...REGISTER_KEYS, RECOVERY_KEY]);
    const history: History = { operations: [...stopped.history.operations, ...recorder.operations()] };
    // The runner's own calls join the load's here, so check that the merged history keeps the rules.
    validateHistory(history);
    const lostWrites = await findLostWrites(context, history, LEDGER_PREFIX, CATCH_UP_MS);
    await writeHistoryFile(historyFile, history);
    const jobStep =
      jobs === undefined
        ? null
        : await runJobChecks({ cluster, workload: jobs, requestTimeoutMs: options.requestTimeoutMs, log });

    const checkStarted = performance.now();
    const violations = [
      ...judgeRun({
        history,
        lostWrites,
        crashes,
        recoveryMs: recovery.writeMs,
        recoveryBoundMs: options.recoveryBoundMs,
      }),
      ...(jobStep?.violations ?? []),
    ];
    log(
      `checked ${history.operations.length} operations in ${Math.round(performance.now() - checkStarted)} ms; ` +
        `${lostWrites.length} acknowledged writes missing`,
    );
    keep = violations.length > 0;
    const removeHistory = !keep && options.outDir === undefined;
    return {
      operations: history.operations.length,
      faults,
      violations,
      historyFile: removeHistory ? null : historyFile,
      keptClusterRoot: keep ? cluster.root : null,
      jobs: jobStep?.summary ?? null,
    };
  } catch (err) {
    keep = true;
    if (err instanceof Error) err.message += `\n(server folders kept in ${cluster.root})`;
    throw err;
  } finally {
    load?.kill();
    await cluster
      .stop({ keepData: keep })
      .finally(() => delayProxies?.stop())
      .finally(() => network?.remove())
      .finally(() => sync.recording?.close({ keep }));
  }
}

function describeRecovery(recovery: Recovery, boundMs: number): string {
  if (recovery.leaderMs === null) return `no leader agreed within ${boundMs} ms of the end of the faults`;
  const leader = `leader agreed ${Math.round(recovery.leaderMs)} ms after the end of the faults`;
  if (recovery.writeMs === null) return `${leader}, but no write acknowledged within ${boundMs} ms`;
  return `${leader}, first write acknowledged after ${Math.round(recovery.writeMs)} ms`;
}
