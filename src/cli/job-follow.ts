import type { ApiClient } from '../http/client.js';
import { countStatuses, monitorAllocations } from './alloc-monitor.js';
import { shortId } from './display.js';
import { EXIT_ERROR, EXIT_OK, EXIT_PLACEMENT_FAILED, monitorEvaluation } from './eval-monitor.js';
import { FollowStop, formatDeadline, type StopReason } from './follow-stop.js';
import { ProgressOutput } from './progress-output.js';

export interface FollowJobOptions {
  /** ID of the submitted job, for the `job status` hint. */
  readonly jobId: string;
  readonly verbose: boolean;
  /** How long to follow in all, in ms; 0 for no limit. */
  readonly deadlineMs: number;
}

/**
 * Follows what `job run` submitted: the evaluation until the scheduler is done with it, then the
 * allocations it placed until each runs, completes, fails or is lost. Ctrl-C or the deadline stop
 * the following, not the job, and the exit code is then the one of the placement so far: 0, or 2
 * when allocations could not be placed. Returns 1 when a followed allocation failed or was lost.
 */
export async function followJob(
  client: ApiClient,
  evalId: string,
  options: FollowJobOptions,
): Promise<number> {
  const output = new ProgressOutput(process.stdout);
  const stop = new FollowStop(options.deadlineMs);
  try {
    const evaluation = await monitorEvaluation(client, evalId, {
      verbose: options.verbose,
      write: (text) => process.stdout.write(text),
      signal: stop.signal,
    });
    if (evaluation === null) {
      output.line(
        stoppedLine(
          stop.reason,
          options,
          `evaluation "${shortId(evalId, options.verbose)}" is not final yet`,
        ),
      );
      return EXIT_OK;
    }
    if (evaluation.allocationIds.length === 0) return evaluation.exitCode;

    const allocs = await monitorAllocations(client, evalId, evaluation.allocationIds, {
      verbose: options.verbose,
      output,
      signal: stop.signal,
    });
    const counts = countStatuses(allocs.statuses);
    if (allocs.stopped) {
      output.line(stoppedLine(stop.reason, options, `allocations: ${counts}`));
      return evaluation.exitCode;
    }
    if (allocs.failed.length > 0) {
      const first = shortId(allocs.failed[0]!, options.verbose);
      output.line(`==> Allocations: ${counts}; see why with signet alloc status ${first}`);
      return EXIT_ERROR;
    }
    output.line(`==> Allocations: ${counts}`);
    return evaluation.exitCode === EXIT_PLACEMENT_FAILED ? EXIT_PLACEMENT_FAILED : EXIT_OK;
  } finally {
    stop.dispose();
  }
}

function stoppedLine(reason: StopReason | null, options: FollowJobOptions, state: string): string {
  const stoppedBy =
    reason === 'deadline' ? `after -monitor-timeout ${formatDeadline(options.deadlineMs)}` : 'at Ctrl-C';
  const hint = options.jobId === '' ? 'signet job status' : `signet job status ${options.jobId}`;
  return `==> Stopped following ${stoppedBy} (${state}); the job stays submitted: check it with ${hint}`;
}
