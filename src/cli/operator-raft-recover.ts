import type { Command } from 'commander';
import type { Membership } from '../raft/types.js';
import { type RecoverResult, recoverDataFolder } from '../server/snapshot/recover-data-folder.js';
import { apiAction } from './api-command.js';
import { formatKeyValues } from './table.js';

interface RecoverFlags {
  readonly dataDir: string;
  readonly snapshot?: string;
}

/**
 * Registers `operator raft recover` under the `operator raft` command, which
 * `registerOperatorRaftCommands` must have created first.
 */
export function registerOperatorRaftRecoverCommand(operator: Command): void {
  const raft = operator.commands.find((command) => command.name() === 'raft');
  if (raft === undefined) throw new Error('register the operator raft commands before operator raft recover');

  raft
    .command('recover')
    .description(
      'offline, on a stopped server: make it the only voter of a new configuration, keeping its state or restoring a snapshot file',
    )
    .requiredOption(
      '--data-dir <dir>',
      'data_dir of the stopped server (required); to restore into a new server, an empty folder',
    )
    .option(
      '--snapshot <file>',
      "snapshot file from operator snapshot save whose state replaces the server's (default: keep the server's own log and state)",
    )
    .action(
      apiAction(async (flags: RecoverFlags) => {
        const started = performance.now();
        const result = await recoverDataFolder({ dataDir: flags.dataDir, snapshotFile: flags.snapshot });
        process.stdout.write(formatResult(result, performance.now() - started));
      }),
    );
}

function formatResult(result: RecoverResult, elapsedMs: number): string {
  const { source } = result;
  const from =
    source.kind === 'log'
      ? `own log: snapshot at index ${source.snapshotIndex} and ${source.entriesApplied} entries up to index ${source.lastIndex}`
      : `snapshot file ${source.path} (index ${source.index}, term ${source.term})`;
  const rows = Object.entries(result.summary.rows)
    .filter(([, count]) => count > 0)
    .map(([table, count]) => `${table} ${count}`)
    .join(', ');
  const lines = [
    `Recovered ${result.dataDir}: this server is now the only voter of a new configuration`,
    formatKeyValues([
      ['Server ID', String(result.serverId)],
      ['Index', String(result.index)],
      ['Term', String(result.term)],
      ['State from', from],
      ['Rows', rows === '' ? '<none>' : rows],
      [
        'Removed servers',
        result.membership.removed.length === 0 ? '<none>' : result.membership.removed.join(', '),
      ],
      ['Duration', `${Math.round(elapsedMs)} ms`],
    ]).trimEnd(),
  ];
  const role = source.kind === 'log' ? previousRole(result.previousMembership, result.serverId) : null;
  if (role !== null && role !== 'voter') {
    lines.push(
      `Warning: this server was ${role} of the old configuration, so its state may be older than the lost cluster's.`,
    );
  }
  lines.push(
    'Before starting it, make sure the old servers are stopped for good and their data folders deleted: an old server that comes back with its data can take over this one.',
    'Then start the server; it elects itself leader. New servers with empty data folders join it as usual.',
  );
  return `${lines.join('\n')}\n`;
}

function previousRole(membership: Membership | null, id: number): string | null {
  if (membership === null) return null;
  if (membership.voters.includes(id)) return 'voter';
  if (membership.learners.includes(id)) return 'a learner';
  if (membership.removed.includes(id)) return 'a removed server';
  return 'not a member';
}
