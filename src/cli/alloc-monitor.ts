import { type ApiClient, ApiError } from '../http/client.js';
import type { AllocListStub } from '../http/routes/views.js';
import type { AllocClientStatus } from '../structs/allocation.js';
import { shortId } from './display.js';
import type { ProgressOutput } from './progress-output.js';

/** How long each blocking read of the allocations waits on the server before it is repeated. */
const BLOCKING_WAIT = '30s';

/** Client statuses at which `job run` stops following an allocation. */
const SETTLED_STATUSES: ReadonlySet<AllocClientStatus> = new Set(['running', 'complete', 'failed', 'lost']);
/** Settled statuses that make `job run` fail. */
const FAILED_STATUSES: ReadonlySet<AllocClientStatus> = new Set(['failed', 'lost']);

/** Order of the counts in the status line and the summary. */
const STATUS_ORDER: readonly AllocClientStatus[] = ['pending', 'running', 'complete', 'failed', 'lost'];

export interface AllocationMonitorOptions {
  readonly verbose: boolean;
  readonly output: ProgressOutput;
  /** Stops following; the allocations go on without the monitor. */
  readonly signal?: AbortSignal;
}

/** Outcome of the allocation monitor. */
export interface AllocationsOutcome {
  /** The last client status seen of each followed allocation, by ID. */
  readonly statuses: ReadonlyMap<string, AllocClientStatus>;
  /** IDs of the allocations that ended `failed` or `lost`. */
  readonly failed: readonly string[];
  /** True when `signal` stopped the monitor before every allocation settled. */
  readonly stopped: boolean;
}

/**
 * Follows the client status of the allocations that evaluation `evalId` placed, with blocking
 * reads of `/v1/evaluation/:id/allocations`, until each one is running, complete, failed or lost.
 * It prints a line per status change, as `pending` -> `running`, and on a terminal a status line
 * of counts redrawn in place. Allocations count from `pending`, the status they are created with,
 * so one already running at the first read still gets its line. Returns what it saw, also when
 * `signal` stopped it. Throws ApiError when a read fails.
 */
export async function monitorAllocations(
  client: ApiClient,
  evalId: string,
  allocationIds: readonly string[],
  options: AllocationMonitorOptions,
): Promise<AllocationsOutcome> {
  const { output } = options;
  const id = (value: string): string => shortId(value, options.verbose);
  const path = `/v1/evaluation/${encodeURIComponent(evalId)}/allocations`;
  const statuses = new Map<string, AllocClientStatus>(allocationIds.map((allocId) => [allocId, 'pending']));

  output.line(
    `==> Following ${allocationIds.length} allocation${allocationIds.length === 1 ? '' : 's'} until ${allocationIds.length === 1 ? 'it runs' : 'they run'}`,
  );
  let index = 0;
  let stopped = false;
  while (!allSettled(statuses)) {
    let allocs: AllocListStub[];
    try {
      const query = index > 0 ? { index: String(index), wait: BLOCKING_WAIT } : {};
      const response = await client.get<AllocListStub[]>(
        path,
        query,
        options.signal === undefined ? {} : { signal: options.signal },
      );
      allocs = response.body;
      index = response.index ?? index;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'ABORTED') {
        stopped = true;
        break;
      }
      throw err;
    }

    for (const alloc of allocs) {
      const previous = statuses.get(alloc.ID);
      // Other allocations of the evaluation, if a later read shows any, are not followed.
      if (previous === undefined) continue;
      if (alloc.ClientStatus === previous) continue;
      statuses.set(alloc.ID, alloc.ClientStatus);
      const description = alloc.ClientDescription === '' ? '' : ` (${alloc.ClientDescription})`;
      output.line(
        `    Allocation "${id(alloc.ID)}" status changed: "${previous}" -> "${alloc.ClientStatus}"${description}`,
      );
    }
    if (output.redraws) output.update(`    Allocations: ${countStatuses(statuses)}`);
  }
  output.finish();

  const failed = [...statuses]
    .filter(([, status]) => FAILED_STATUSES.has(status))
    .map(([allocId]) => allocId);
  return { statuses, failed, stopped };
}

function allSettled(statuses: ReadonlyMap<string, AllocClientStatus>): boolean {
  for (const status of statuses.values()) if (!SETTLED_STATUSES.has(status)) return false;
  return true;
}

/** Formats counts by client status, such as `1 pending, 2 running`, leaving out zeros. */
export function countStatuses(statuses: ReadonlyMap<string, AllocClientStatus>): string {
  const counts = new Map<AllocClientStatus, number>();
  for (const status of statuses.values()) counts.set(status, (counts.get(status) ?? 0) + 1);
  return STATUS_ORDER.filter((status) => counts.has(status))
    .map((status) => `${counts.get(status)} ${status}`)
    .join(', ');
}
