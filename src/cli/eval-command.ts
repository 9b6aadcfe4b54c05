import type { Command } from 'commander';
import type { Evaluation } from '../structs/evaluation.js';
import {
  apiAction,
  clientFor,
  type NamespaceFlags,
  namespaceFor,
  printJson,
  withApiFlags,
  withNamespaceFlag,
} from './api-command.js';
import { compareStrings, formatNanos, orNone, shortId } from './display.js';
import { findByPrefix } from './find-by-prefix.js';
import { formatKeyValues } from './table.js';

interface EvalFlags extends NamespaceFlags {
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/** Registers `eval status`. */
export function registerEvalCommands(program: Command): void {
  const evaluation = program.command('eval').description('inspect evaluations');

  withNamespaceFlag(withApiFlags(evaluation.command('status')))
    .description('show one evaluation: its trigger, status and the allocations it could not place')
    .argument('<id>', 'evaluation ID or ID prefix')
    .option('--json', 'print the evaluation as JSON')
    .option('--verbose', 'print full IDs')
    .action(
      apiAction(async (id: string, flags: EvalFlags) => {
        const namespace = namespaceFor(flags);
        const found = await findByPrefix<Evaluation>(clientFor(flags), {
          id,
          noun: 'evaluation(s)',
          listPath: '/v1/evaluations',
          itemPath: (full) => `/v1/evaluation/${encodeURIComponent(full)}`,
          query: namespace === null ? {} : { namespace },
        });
        if (flags.json === true) {
          printJson(found);
          return;
        }
        process.stdout.write(describeEvaluation(found, flags.verbose === true));
      }),
    );
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
