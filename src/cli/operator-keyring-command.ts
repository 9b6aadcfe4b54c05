import type { Command } from 'commander';
import type { ApiClient } from '../http/client.js';
import type { RootKeyListEntry } from '../http/routes/keyring.js';
import type { RootKeyMeta } from '../keyring/index.js';
import type { RootKeyRotateResult } from '../server/backend.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { formatNanos, shortId } from './display.js';
import { FollowStop, formatDeadline, parseMonitorTimeout } from './follow-stop.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';
import { ProgressOutput } from './progress-output.js';
import { monitorRekey } from './rekey-monitor.js';
import { formatTable } from './table.js';

/** Length of a root key id (a UUID). `remove` looks up shorter arguments as prefixes. */
const KEY_ID_LENGTH = 36;

type ListFlags = ApiFlags & OutputFlags & { verbose?: boolean };
type RotateFlags = ApiFlags & { full?: boolean; verbose?: boolean; detach?: boolean; monitorTimeout: string };
type RemoveFlags = ApiFlags & { force?: boolean };

/** Keys belong to no namespace; the flag is accepted because Nomad's general options include it. */
const NAMESPACE_IGNORED = 'root keys belong to no namespace';

/** Registers `operator root keyring list`, `rotate` and `remove` under `operator`. */
export function registerOperatorKeyringCommands(operator: Command): void {
  const keyring = operator
    .command('root')
    .description('manage the root keys that sign workload identities')
    .command('keyring')
    .description('list, rotate and remove root keys');

  withOutputFlags(withNamespaceFlag(withApiFlags(keyring.command('list')), NAMESPACE_IGNORED), 'keys')
    .description('list the root keys and their states')
    .option('--verbose', 'print full key IDs instead of the first 8 characters', false)
    .action(
      apiAction(async (flags: ListFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<RootKeyListEntry[]>('/v1/operator/keyring/keys');
        await printOutput(output, body, () =>
          body.length === 0 ? 'No root keys found\n' : formatKeys(body, flags.verbose === true),
        );
      }),
    );

  withNamespaceFlag(withApiFlags(keyring.command('rotate')), NAMESPACE_IGNORED)
    .description(
      'make a new active root key; the old key keeps verifying the tokens it signed. With -full, follow ' +
        'the re-encryption of the variables until the old keys are inactive',
    )
    .option(
      '--full',
      'mark the old keys rekeying instead of inactive, so the leader re-encrypts their variables under the new key',
      false,
    )
    .option('--detach', 'with -full, exit after the rotation instead of following the re-encryption', false)
    .option(
      '--monitor-timeout <duration>',
      'with -full, stop following after this long (a Go duration, 0 for no limit); Ctrl-C does the same',
      '0',
    )
    .option('--verbose', 'print full key IDs instead of the first 8 characters', false)
    .action(apiAction(rotateKey));

  withNamespaceFlag(withApiFlags(keyring.command('remove')), NAMESPACE_IGNORED)
    .description('remove a root key that is not active; tokens it signed stop verifying')
    .argument('<key-id>', 'key ID, or a prefix of it that matches one key')
    .option(
      '--force',
      'remove the key even if allocations that may still run hold identities it signed',
      false,
    )
    .action(
      apiAction(async (keyIdOrPrefix: string, flags: RemoveFlags) => {
        const client = clientFor(flags);
        const keyId = await resolveKeyId(client, keyIdOrPrefix);
        await client.delete(`/v1/operator/keyring/key/${encodeURIComponent(keyId)}`, {
          force: flags.force === true,
        });
        process.stdout.write(`Removed encryption key ${keyId}\n`);
      }),
    );
}

/**
 * Rotates the root key. After a full rotation it follows the rekey until no old key is
 * `rekeying`; Ctrl-C and -monitor-timeout stop the following, not the rekey, and exit 0.
 */
async function rotateKey(flags: RotateFlags): Promise<void> {
  const deadlineMs = parseMonitorTimeout(flags.monitorTimeout);
  const client = clientFor(flags);
  const verbose = flags.verbose === true;
  const { body } = await client.put<RootKeyRotateResult>('/v1/operator/keyring/rotate', undefined, {
    full: flags.full === true,
  });
  process.stdout.write(formatKeys([body.Key], verbose));
  if (flags.full !== true || flags.detach === true) return;

  const output = new ProgressOutput(process.stdout);
  const stop = new FollowStop(deadlineMs);
  try {
    const outcome = await monitorRekey(client, { verbose, output, signal: stop.signal });
    if (!outcome.stopped) {
      output.line('==> Every old key is inactive: all variables are encrypted under the new key');
      return;
    }
    const stoppedBy =
      stop.reason === 'deadline' ? `after -monitor-timeout ${formatDeadline(deadlineMs)}` : 'at Ctrl-C';
    output.line(
      `==> Stopped following ${stoppedBy} (${outcome.progress}); the leader goes on: watch it with signet operator root keyring list`,
    );
  } finally {
    stop.dispose();
  }
}

/** Formats keys as Nomad's keyring commands print them: Key, State, Create Time. */
function formatKeys(keys: readonly RootKeyMeta[], verbose: boolean): string {
  const rows = keys.map((key) => [shortId(key.KeyID, verbose), key.State, formatNanos(key.CreateTime)]);
  return formatTable(['Key', 'State', 'Create Time'], rows);
}

/**
 * Returns the full key id for a full id or a prefix of one. The keys endpoint has no `prefix`
 * parameter, so a prefix is matched against the whole list, which stays small.
 */
async function resolveKeyId(client: ApiClient, keyIdOrPrefix: string): Promise<string> {
  if (keyIdOrPrefix.length >= KEY_ID_LENGTH) return keyIdOrPrefix;
  if (keyIdOrPrefix === '') throw new Error('Missing key ID: give a key ID as keyring list prints it');

  const { body } = await client.get<RootKeyMeta[]>('/v1/operator/keyring/keys');
  const matches = body.filter((key) => key.KeyID.startsWith(keyIdOrPrefix));
  if (matches.length === 0) throw new Error(`No root key with prefix or id "${keyIdOrPrefix}" found`);
  if (matches.length > 1) {
    const ids = matches.map((key) => key.KeyID).join(', ');
    throw new Error(`Prefix "${keyIdOrPrefix}" matched multiple root keys (${ids}); give more of the ID`);
  }
  return matches[0]!.KeyID;
}
