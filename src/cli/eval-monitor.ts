import { type ApiClient, ApiError } from '../http/client.js';
import type { AllocListStub } from '../http/routes/views.js';
import type { EvalStatus, Evaluation } from '../structs/evaluation.js';
import { compareStrings, shortId } from './display.js';

/** Exit codes of `job run` and `job stop`, as in Nomad. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_PLACEMENT_FAILED = 2;

/** How long each blocking read of the evaluation waits on the server before it is repeated. */
const BLOCKING_WAIT = '30s';

/** Statuses after which the scheduler will not touch the evaluation again. */
const FINAL_STATUSES: ReadonlySet<EvalStatus> = new Set(['complete', 'failed', 'blocked', 'canceled']);

export interface MonitorOptions {
  /** Print full IDs instead of their first 8 characters. */
  readonly verbose: boolean;
  readonly write: (text: string) => void;
  /** Stops following (Ctrl-C or a deadline); the evaluation goes on without the monitor. */
  readonly signal?: AbortSignal;
}

/** Outcome of an evaluation that the monitor followed until it was final. */
export interface EvaluationOutcome {
  /** EXIT_PLACEMENT_FAILED when some allocations could not be placed, else EXIT_OK. */
  readonly exitCode: number;
  readonly evaluation: Evaluation;
  /** IDs of the allocations the evaluation created, in the order they were first seen. */
  readonly allocationIds: readonly string[];
}

/**
 * Follows an evaluation with blocking reads until the scheduler is done with it, printing each
 * status change and each allocation it created, the way Nomad's `job run` monitor does. The exit
 * code is EXIT_PLACEMENT_FAILED when some allocations could not be placed (queued allocations
 * left, or the evaluation failed or is blocked). Returns null when `signal` stopped the monitor
 * first. Throws ApiError when a read fails.
 */
export async function monitorEvaluation(
  client: ApiClient,
  evalId: string,
  options: MonitorOptions,
): Promise<EvaluationOutcome | null> {
  try {
    return await followEvaluation(client, evalId, options);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'ABORTED') return null;
    throw err;
  }
}

async function followEvaluation(
  client: ApiClient,
  evalId: string,
  options: MonitorOptions,
): Promise<EvaluationOutcome> {
  const requestOptions = options.signal === undefined ? {} : { signal: options.signal };
  const line = (text: string): void => options.write(`${text}\n`);
  const id = (value: string): string => shortId(value, options.verbose);
  const evalPath = `/v1/evaluation/${encodeURIComponent(evalId)}`;

  line(`==> Monitoring evaluation "${id(evalId)}"`);
  const seenAllocs = new Set<string>();
  let status: EvalStatus | null = null;
  let index = 0;
  let evaluation: Evaluation;
  for (;;) {
    const query = index > 0 ? { index: String(index), wait: BLOCKING_WAIT } : {};
    const response = await client.get<Evaluation>(evalPath, query, requestOptions);
    evaluation = response.body;
    index = response.index ?? index;

    if (status === null) line(`    ${describeTrigger(evaluation)}`);
    const allocs = await client.get<AllocListStub[]>(`${evalPath}/allocations`, {}, requestOptions);
    for (const alloc of allocs.body) {
      if (seenAllocs.has(alloc.ID)) continue;
      seenAllocs.add(alloc.ID);
      line(
        `    Allocation "${id(alloc.ID)}" created: node "${id(alloc.NodeID)}", group "${alloc.TaskGroup}"`,
      );
    }
    if (status !== null && status !== evaluation.Status) {
      line(`    Evaluation status changed: "${status}" -> "${evaluation.Status}"`);
    }
    status = evaluation.Status;
    if (FINAL_STATUSES.has(status)) break;
  }

  const exitCode = reportOutcome(evaluation, line, id);
  return { exitCode, evaluation, allocationIds: [...seenAllocs] };
}

function reportOutcome(
  evaluation: Evaluation,
  line: (text: string) => void,
  id: (value: string) => string,
): number {
  const finished = `==> Evaluation "${id(evaluation.ID)}" finished with status "${evaluation.Status}"`;
  const queued = Object.entries(evaluation.QueuedAllocations)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => compareStrings(a, b));
  const placementFailed =
    queued.length > 0 || evaluation.Status === 'failed' || evaluation.Status === 'blocked';
  if (!placementFailed) {
    line(finished);
    return EXIT_OK;
  }

  line(`${finished} but failed to place all allocations:`);
  for (const [group, count] of queued) {
    line(`    Task Group "${group}" (failed to place ${count} allocation${count === 1 ? '' : 's'})`);
  }
  if (evaluation.StatusDescription !== '') line(`    ${evaluation.StatusDescription}`);
  if (evaluation.BlockedEval !== '') {
    line(`    Evaluation "${id(evaluation.BlockedEval)}" waiting for additional capacity to place remainder`);
  }
  return EXIT_PLACEMENT_FAILED;
}

function describeTrigger(evaluation: Evaluation): string {
  if (evaluation.NodeID !== '' && evaluation.TriggeredBy === 'node-update') {
    return `Evaluation triggered by node "${evaluation.NodeID}"`;
  }
  return `Evaluation triggered by job "${evaluation.JobID}"`;
}
