import type { Command } from 'commander';
import type { Evaluation } from '../structs/evaluation.js';
import { compareStrings, formatNanos, orNone, shortId } from './display.js';
import { addStatusCommand } from './status-command.js';
import { formatKeyValues } from './table.js';

/** Registers `eval status`. */
export function registerEvalCommands(program: Command): void {
  addStatusCommand(program.command('eval').description('inspect evaluations'), {
    description: 'show one evaluation: its trigger, status and the allocations it could not place',
    noun: 'evaluation',
    listPath: '/v1/evaluations',
    itemPath: (full) => `/v1/evaluation/${encodeURIComponent(full)}`,
    verboseHelp: 'print full IDs instead of their first 8 characters',
    describe: describeEvaluation,
  });
}

function describeEvaluation(evaluation: Evaluation, verbose: boolean): string {
  const queued = Object.entries(evaluation.QueuedAllocations)
    .filter(([, count]) => count > 0)
    .sort(([a], [b]) => compareStrings(a, b));
  const optionalId = (value: string): string => (value === '' ? '<none>' : shortId(value, verbose));
  const out = [
    formatKeyValues([
      ['ID', shortId(evaluation.ID, verbose)],
      ['Create Time', formatNanos(evaluation.CreateTime)],
      ['Modify Time', formatNanos(evaluation.ModifyTime)],
      ['Status', evaluation.Status],
      ['Status Description', orNone(evaluation.StatusDescription)],
      ['Type', evaluation.Type],
      ['TriggeredBy', evaluation.TriggeredBy],
      ['Job ID', evaluation.JobID],
      ['Namespace', evaluation.Namespace],
      ['Node ID', optionalId(evaluation.NodeID)],
      ['Priority', String(evaluation.Priority)],
      ['Previous Eval', optionalId(evaluation.PreviousEval)],
      ['Blocked Eval', optionalId(evaluation.BlockedEval)],
      ['Placement Failures', String(queued.length > 0)],
    ]),
  ];
  if (queued.length > 0) {
    out.push('\nFailed Placements\n');
    for (const [group, count] of queued) {
      out.push(`Task Group "${group}" (failed to place ${count} allocation${count === 1 ? '' : 's'})\n`);
    }
  }
  return out.join('');
}
