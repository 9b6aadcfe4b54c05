import type { Command } from 'commander';
import { StorageError } from '../raft/storage/storage.js';
import { SnapshotArchiveError } from '../server/snapshot/archive-error.js';
import {
  describeRole,
  type FolderRaftState,
  type RecoverResult,
  recoverDataFolder,
} from '../server/snapshot/recover-data-folder.js';
import { RecoverError } from '../server/snapshot/recover-error.js';
import { apiAction } from './api-command.js';
import { formatKeyValues } from './table.js';

interface RecoverFlags {
  readonly dataDir: string;
  readonly snapshot?: string;
  readonly dryRun?: boolean;
  readonly force?: boolean;
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
    .option('--dry-run', 'check the folder and print what recover would do, without writing (default: false)')
    .option(
      '--force',
      'recover from the own log even when this server was a learner, removed or not a member (default: false)',
    )
    .action(
      apiAction(async (flags: RecoverFlags) => {
        const started = performance.now();
        let result: RecoverResult;
        try {
          result = await recoverDataFolder({
            dataDir: flags.dataDir,
            snapshotFile: flags.snapshot,
            dryRun: flags.dryRun === true,
            force: flags.force === true,
            beforeWrite: (folder) => process.stdout.write(formatFolder(folder)),
          });
        } catch (err) {
          throw withCode(err);
        }
        process.stdout.write(formatResult(result, performance.now() - started));
      }),
    );
}

/** Puts the error's code in brackets before its message, so scripts can match the code, not the wording. */
function withCode(err: unknown): unknown {
  const coded =
    err instanceof RecoverError || err instanceof SnapshotArchiveError || err instanceof StorageError;
  if (!coded) return err;
  return new Error(`[${err.code}] ${err.message}`, { cause: err });
}

/** Formats the facts an operator compares across survivors to pick the one with the newest log. */
function formatFolder(folder: FolderRaftState): string {
  return `${formatKeyValues([
    ['Last log term', String(folder.lastLog.term)],
    ['Last log index', String(folder.lastLog.index)],
    ['Commit index', String(folder.commitIndex)],
  ]).trimEnd()}\n`;
}

function formatResult(result: RecoverResult, elapsedMs: number): string {
  const { source } = result;
  const from =
    source.kind === 'log'
      ? `own log: snapshot at index ${source.snapshotIndex} and ${source.entriesApplied} entries up to index ${source.lastIndex}, ${source.entriesAboveCommit} of them above the commit index`
      : `snapshot file ${source.path} (index ${source.index}, term ${source.term})`;
  const rows = Object.entries(result.summary.rows)
    .filter(([, count]) => count > 0)
    .map(([table, count]) => `${table} ${count}`)
    .join(', ');
  const headline = result.written
    ? `Recovered ${result.dataDir}: this server is now the only voter of a new configuration`
    : `Dry run, nothing written: recover would make this server of ${result.dataDir} the only voter of a new configuration`;
  const lines = [
    headline,
    formatKeyValues([
      ['Server ID', result.serverId === 0 ? '<new>' : String(result.serverId)],
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
  if (source.kind === 'log' && source.entriesAboveCommit > 0) {
    lines.push(
      `Warning: ${source.entriesAboveCommit} replayed entries lie above the stored commit index; the lost cluster may never have committed them.`,
    );
  }
  if (result.previousRole !== null) {
    lines.push(
      `Warning: this server was ${describeRole(result.previousRole)} of the old configuration (recovered with -force), so its state may be older than the lost cluster's.`,
    );
  }
  if (!result.written) return `${lines.join('\n')}\n`;
  lines.push(
    'Before starting it, make sure the old servers are stopped for good and their data folders deleted: an old server that comes back with its data can take over this one.',
    'Then start the server; it elects itself leader. New servers with empty data folders join it as usual.',
  );
  return `${lines.join('\n')}\n`;
}
