import { rmSync } from 'node:fs';
import { lstat, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { syncDirectory } from '../raft/storage/snapshot-file.js';
import { type CheckedArchive, readArchiveFile } from '../server/snapshot/archive-file.js';
import { parseGoDuration } from '../structs/go-duration.js';
import { type ApiFlags, apiAction, printJson, withApiFlags } from './api-command.js';
import { DEFAULT_IDLE_TIMEOUT_MS, DOWNLOAD_TIMEOUT_MS, downloadToFile } from './snapshot-download.js';
import { formatKeyValues, formatTable } from './table.js';

type SaveFlags = ApiFlags & { stale?: boolean; timeout: string };
type InspectFlags = { json?: boolean };

/** Registers `operator snapshot save`, `inspect` and `restore` under `operator`. */
export function registerOperatorSnapshotCommands(operator: Command): void {
  const snapshot = operator
    .command('snapshot')
    .description('save and inspect snapshots of the replicated state, for backups');

  withApiFlags(snapshot.command('save'))
    .description('save a snapshot of the replicated state to a file (mode 0600); needs a management token')
    .argument(
      '<file>',
      'file to write; an existing regular file is replaced only once the new snapshot is complete and checked, and any other existing path (a device, FIFO, symlink or folder) is rejected',
    )
    .option(
      '--stale',
      'let the server answer from its own state, even without a leader (default: false, the snapshot includes every committed write)',
    )
    .option(
      '--timeout <duration>',
      'give up when the server sends nothing for this long, before or during the response (a Go duration such as 90s or 5m)',
      `${DEFAULT_IDLE_TIMEOUT_MS / 1000}s`,
    )
    .action(apiAction((file: string, flags: SaveFlags) => saveSnapshot(file, flags)));

  snapshot
    .command('inspect')
    .description('check a snapshot file and print its index, term, size and the rows of each table')
    .argument('<file>', 'snapshot file written by operator snapshot save')
    .option('--json', 'print the details as JSON (default: false)')
    .action(apiAction((file: string, flags: InspectFlags) => inspectSnapshot(file, flags)));

  snapshot
    .command('restore')
    .description('not served: Signet restores snapshots offline with operator raft recover -snapshot')
    .argument('<file>', 'snapshot file')
    .action(
      apiAction(async (file: string) => {
        throw new Error(
          `Signet restores snapshots offline: stop the server, then run signet operator raft recover -data-dir DIR -snapshot ${file}, and start it again`,
        );
      }),
    );
}

/**
 * Downloads to a temporary file beside `file`, checks the whole archive, then renames it over
 * `file` and syncs the folder, so `file` is never left half-written or unchecked.
 */
async function saveSnapshot(file: string, flags: SaveFlags): Promise<void> {
  const idleTimeoutMs = parseSaveTimeout(flags.timeout);
  const target = resolve(file);
  await checkSaveTarget(target, file);
  const temporary = `${target}.${process.pid}.tmp`;
  // The temporary file contains every token secret, so Ctrl-C must not leave it behind. 130 is the
  // shell's exit status for a process ended by SIGINT.
  const onInterrupt = (): void => {
    rmSync(temporary, { force: true });
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  let checked: CheckedArchive;
  try {
    await downloadToFile(
      flags,
      '/v1/operator/snapshot',
      flags.stale === true ? { stale: 'true' } : {},
      temporary,
      idleTimeoutMs,
    );
    checked = await readArchiveFile(temporary, file).catch((err: unknown) => {
      throw new Error(
        `the snapshot received failed its check, so ${file} was not written: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    });
    // Checked again because the download may have taken minutes, and rename replaces any entry.
    await checkSaveTarget(target, file);
    await rename(temporary, target);
    await syncDirectory(dirname(target));
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  const { index, term } = checked.archive.header;
  process.stdout.write(
    `State file written to ${file} (index ${index}, term ${term}, ${formatBytes(checked.fileSize)})\n`,
  );
}

/**
 * Rejects a save target that exists and is not a regular file. The rename would replace a device
 * such as /dev/null (run as root) or a FIFO with a file of token secrets, and a symlink with the
 * file rather than its target. Nomad rejects every existing target; Signet replaces a regular
 * file, because the rename happens only after the new snapshot passed its check.
 */
async function checkSaveTarget(target: string, file: string): Promise<void> {
  let kind: string;
  try {
    const stats = await lstat(target);
    if (stats.isFile()) return;
    kind = stats.isDirectory()
      ? 'a folder'
      : stats.isSymbolicLink()
        ? 'a symbolic link'
        : 'not a regular file (a device, FIFO or socket)';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`cannot check ${file}: ${(err as Error).message}`, { cause: err });
  }
  throw new Error(
    `cannot save the snapshot to ${file}: it exists and is ${kind}; pass a new or regular file`,
  );
}

/** Parses `-timeout`; above the whole download's limit it would never apply. */
function parseSaveTimeout(value: string): number {
  const ms = parseGoDuration(value);
  if (ms === null || ms < 1 || ms > DOWNLOAD_TIMEOUT_MS) {
    throw new Error(
      `invalid -timeout ${JSON.stringify(value)}: expected a duration from 1ms to ${DOWNLOAD_TIMEOUT_MS / 60_000}m, such as 90s`,
    );
  }
  return Math.ceil(ms);
}

async function inspectSnapshot(file: string, flags: InspectFlags): Promise<void> {
  const { archive, summary, fileSize } = await readArchiveFile(file);
  const { header } = archive;
  if (flags.json === true) {
    printJson({
      FormatVersion: archive.formatVersion,
      Index: header.index,
      Term: header.term,
      Created: header.createdAt,
      SignetVersion: header.signetVersion,
      Size: fileSize,
      StateSize: header.stateSize,
      StateSHA256: header.stateSha256,
      ChecksumOK: true,
      Membership: {
        Voters: header.membership.voters.map(String),
        Learners: header.membership.learners.map(String),
        Removed: header.membership.removed.map(String),
      },
      Tables: summary.rows,
    });
    return;
  }
  process.stdout.write(
    formatKeyValues([
      ['Created', header.createdAt],
      ['Index', String(header.index)],
      ['Term', String(header.term)],
      ['Size', formatBytes(fileSize)],
      ['Format', String(archive.formatVersion)],
      ['Signet', header.signetVersion],
      ['Checksum', `ok (SHA-256 ${header.stateSha256})`],
      ['Voters', listIds(header.membership.voters)],
      ['Learners', listIds(header.membership.learners)],
      ['Removed', listIds(header.membership.removed)],
    ]),
  );
  const rows = Object.entries(summary.rows).map(([table, count]) => [table, String(count)]);
  process.stdout.write(`\n${formatTable(['Table', 'Rows'], rows)}`);
}

function listIds(ids: readonly number[]): string {
  return ids.length === 0 ? '<none>' : ids.join(', ');
}

/** Formats a size with binary units, as Nomad's inspect does (`158 KiB`). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
