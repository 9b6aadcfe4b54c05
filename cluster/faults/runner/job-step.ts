import { join } from 'node:path';
import type { Cluster } from '../../launcher.js';
import {
  countJobEvents,
  type JobEventCounts,
  type JobWorkloadConfig,
  readJobLog,
} from '../workload/jobs-log.js';
import { type JobViolation, judgeJobs } from './job-checks.js';
import { collectJobEvidence } from './job-evidence.js';

/** Client agents a run with jobs starts: two, so that a lost node's allocations can move. */
export const JOB_CLIENTS = 2;
/** Jobs the job client keeps registered at most; at count ≤ 2 they fit two nodes many times over. */
const MAX_JOBS = 8;
/** Time between the starts of two job calls, in ms. */
const JOB_INTERVAL_MS = 300;
/** Time for the jobs to settle after the heal, and for their allocations to finish after the stop, in ms. */
const SETTLE_MS = 30_000;
/** Time each server gets to catch up before its reply to an identity counts against it, in ms. */
const CATCH_UP_MS = 30_000;

/** Counts of what the job step saw, for the run's result. */
export interface JobRunSummary extends JobEventCounts {
  /** Jobs and allocations of the run that the leader held after the heal. */
  readonly jobs: number;
  readonly allocations: number;
  /** Identities probed on every server while their allocations ran, and after they finished. */
  readonly checkedRunning: number;
  readonly checkedTerminal: number;
}

/** Builds the job client's configuration for a run on `cluster`, with its side log in `outDir`. */
export function jobWorkload(cluster: Cluster, outDir: string): JobWorkloadConfig {
  return {
    clientDataDirs: cluster.clients().map((client) => client.dataDir),
    maxJobs: MAX_JOBS,
    intervalMs: JOB_INTERVAL_MS,
    logFile: join(outDir, 'jobs-log.json'),
  };
}

/**
 * Runs the job step after the heal: reads the job client's side log, gathers the evidence from
 * the cluster and judges it. Logs what was checked.
 */
export async function runJobChecks(options: {
  readonly cluster: Cluster;
  readonly workload: JobWorkloadConfig;
  readonly requestTimeoutMs: number;
  readonly log: (line: string) => void;
}): Promise<{ violations: JobViolation[]; summary: JobRunSummary }> {
  const { log, workload } = options;
  const events = await readJobLog(workload.logFile);
  const counts = countJobEvents(events);
  log(
    `jobs during the faults: ${counts.registered} registered, ${counts.deregistered} deregistered, ` +
      `${counts.verifications} identity probes (${counts.accepted} accepted, ${counts.refused} refused, ` +
      `${counts.verifications - counts.accepted - counts.refused} without an answer), ` +
      `${counts.noToken} running allocations without a token file`,
  );
  const evidence = await collectJobEvidence({
    cluster: options.cluster,
    clientDataDirs: workload.clientDataDirs,
    requestTimeoutMs: options.requestTimeoutMs,
    settleMs: SETTLE_MS,
    catchUpMs: CATCH_UP_MS,
  });
  log(
    `jobs after the heal: ${evidence.jobs.length} jobs, ${evidence.allocations.length} allocations, ` +
      `settled=${evidence.settled}; identities probed on every server: ${evidence.checkedRunning} running, ` +
      `${evidence.checkedTerminal} after their allocation finished`,
  );
  return {
    violations: judgeJobs({
      ...evidence,
      overPlacedDuringRun: events.filter((event) => event.kind === 'over-placed'),
    }),
    summary: {
      ...counts,
      jobs: evidence.jobs.length,
      allocations: evidence.allocations.length,
      checkedRunning: evidence.checkedRunning,
      checkedTerminal: evidence.checkedTerminal,
    },
  };
}
