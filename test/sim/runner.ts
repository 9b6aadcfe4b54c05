import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_STEPS, type SimConfig } from './plan.js';
import { runSeed, type SeedResult } from './simulation.js';

/** A seed to run, in a form that crosses a process boundary. */
export interface SeedJob {
  readonly seed: number;
  readonly servers: number;
  readonly steps: number;
}

/** Parent-to-worker message: run these jobs, or exit when there are none. */
export interface WorkerRequest {
  readonly jobs: readonly SeedJob[];
}

/** Worker-to-parent message: one result, or the end of a batch of jobs. */
export type WorkerReply =
  | { readonly kind: 'result'; readonly result: SeedResult }
  | { readonly kind: 'idle' };

/** Returns the `npm run sim` command that replays `job` alone. */
export function replayCommand(job: SeedJob): string {
  const steps = job.steps === DEFAULT_STEPS ? '' : ` --steps ${job.steps}`;
  return `npm run sim -- --start ${job.seed} --seeds 1 --servers ${job.servers}${steps}`;
}

/**
 * Replays `job` in this process and returns the last `count` lines of its trace. Runs are
 * deterministic, so this shows what led to a violation without tracing every seed.
 */
export function traceTail(job: SeedJob, count: number): string[] {
  const lines: string[] = [];
  runSeed({
    ...job,
    trace: (line) => {
      lines.push(line);
      if (lines.length > 2 * count) lines.splice(0, lines.length - count);
    },
  });
  return lines.slice(-count);
}

/** Seeds handed to a worker at a time: small enough to balance two workers, large enough to keep IPC cheap. */
const BATCH = 20;

const WORKER_PATH = fileURLToPath(new URL('./worker.ts', import.meta.url));

/**
 * Runs `jobs`, in this process when `processes` is 1, otherwise spread over that many child
 * processes. Calls `onResult` for each result in completion order.
 */
export async function runSeeds(
  jobs: readonly SeedJob[],
  processes: number,
  onResult: (result: SeedResult) => void,
  trace?: SimConfig['trace'],
): Promise<void> {
  if (processes <= 1 || jobs.length <= BATCH) {
    for (const job of jobs) onResult(runSeed({ ...job, trace }));
    return;
  }
  let next = 0;
  const takeBatch = (): SeedJob[] => {
    const batch = jobs.slice(next, next + BATCH);
    next += batch.length;
    return batch;
  };
  const workers = Array.from({ length: Math.min(processes, Math.ceil(jobs.length / BATCH)) }, () =>
    runWorker(takeBatch, onResult),
  );
  await Promise.all(workers);
}

function runWorker(takeBatch: () => SeedJob[], onResult: (result: SeedResult) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = fork(WORKER_PATH, [], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    const send = (): void => {
      const request: WorkerRequest = { jobs: takeBatch() };
      child.send(request);
    };
    child.on('message', (reply: WorkerReply) => {
      if (reply.kind === 'result') onResult(reply.result);
      else send();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`simulation worker exited with code ${code ?? 'none'} (signal ${signal ?? 'none'})`),
        );
    });
    send();
  });
}
