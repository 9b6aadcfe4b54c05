import type { AllocListStub } from '../http/routes/views.js';
import { formatAge, formatNanos, shortId } from './display.js';
import { formatTable } from './table.js';

/** Formats the allocations table of `job status` and `node status`, newest first. */
export function allocationTable(allocs: readonly AllocListStub[], verbose: boolean): string {
  const sorted = [...allocs].sort((a, b) => b.CreateIndex - a.CreateIndex);
  const age = verbose ? formatNanos : (nanos: number) => formatAge(nanos);
  return formatTable(
    ['ID', 'Node ID', 'Task Group', 'Version', 'Desired', 'Status', 'Created', 'Modified'],
    sorted.map((alloc) => [
      shortId(alloc.ID, verbose),
      shortId(alloc.NodeID, verbose),
      alloc.TaskGroup,
      String(alloc.JobVersion),
      alloc.DesiredStatus,
      alloc.ClientStatus,
      age(alloc.CreateTime),
      age(alloc.ModifyTime),
    ]),
  );
}
