import type { Command } from 'commander';
import type { Allocation, TaskState } from '../structs/allocation.js';
import { formatAge, formatNanos, orNone, shortId } from './display.js';
import { addStatusCommand } from './status-command.js';
import { formatKeyValues, formatTable } from './table.js';

/** Registers `alloc status`. */
export function registerAllocCommands(program: Command): void {
  addStatusCommand(program.command('alloc').description('inspect allocations'), {
    description: 'show one allocation: placement, status and the state of each task',
    noun: 'allocation',
    listPath: '/v1/allocations',
    itemPath: (full) => `/v1/allocation/${encodeURIComponent(full)}`,
    verboseHelp: 'print full IDs and exact times instead of 8-character IDs and ages',
    describe: describeAllocation,
  });
}

function describeAllocation(alloc: Allocation, verbose: boolean): string {
  const time = verbose ? formatNanos : (nanos: number) => formatAge(nanos);
  const out = [
    formatKeyValues([
      ['ID', shortId(alloc.ID, verbose)],
      ['Eval ID', shortId(alloc.EvalID, verbose)],
      ['Name', alloc.Name],
      ['Node ID', shortId(alloc.NodeID, verbose)],
      ['Node Name', alloc.NodeName],
      ['Job ID', alloc.JobID],
      ['Job Version', String(alloc.JobVersion)],
      ['Namespace', alloc.Namespace],
      ['Client Status', alloc.ClientStatus],
      ['Client Description', orNone(alloc.ClientDescription)],
      ['Desired Status', alloc.DesiredStatus],
      ['Desired Description', orNone(alloc.DesiredDescription)],
      ['Created', time(alloc.CreateTime)],
      ['Modified', time(alloc.ModifyTime)],
    ]),
  ];
  const tasks = Object.keys(alloc.TaskResources).sort();
  for (const task of tasks) {
    const state: TaskState | undefined = alloc.TaskStates[task];
    const resources = alloc.TaskResources[task]!;
    out.push(`\nTask "${task}" is "${state?.State ?? 'pending'}"\n`);
    out.push(
      `Task Resources\n${formatTable(['CPU', 'Memory'], [[`${resources.CPU} MHz`, `${resources.MemoryMB} MiB`]])}`,
    );
    const events = state?.Events ?? [];
    if (events.length > 0) {
      const rows = [...events]
        .reverse()
        .map((event) => [formatNanos(event.Time), event.Type, event.DisplayMessage]);
      out.push(`\nRecent Events:\n${formatTable(['Time', 'Type', 'Description'], rows)}`);
    }
  }
  return out.join('');
}
