import type { Command } from 'commander';
import type { ApiClient } from '../http/client.js';
import type { RootKeyMeta } from '../keyring/index.js';
import type { RootKeyRotateResult } from '../server/backend.js';
import { type ApiFlags, apiAction, clientFor, printJson, withApiFlags } from './api-command.js';
import { formatNanos, shortId } from './display.js';
import { formatTable } from './table.js';

/** Length of a root key id (a UUID). `remove` looks up shorter arguments as prefixes. */
const KEY_ID_LENGTH = 36;

type ListFlags = ApiFlags & { verbose?: boolean; json?: boolean };
type RotateFlags = ApiFlags & { full?: boolean; verbose?: boolean };
type RemoveFlags = ApiFlags & { force?: boolean };

/** Registers `operator root keyring list`, `rotate` and `remove` under `operator`. */
export function registerOperatorKeyringCommands(operator: Command): void {
  const keyring = operator
    .command('root')
    .description('manage the root keys that sign workload identities')
    .command('keyring')
    .description('list, rotate and remove root keys');

  withApiFlags(keyring.command('list'))
    .description('list the root keys and their states')
    .option('--verbose', 'print full key IDs instead of the first 8 characters')
    .option('--json', 'print the keys as JSON')
    .action(
      apiAction(async (flags: ListFlags) => {
        const { body } = await clientFor(flags).get<RootKeyMeta[]>('/v1/operator/keyring/keys');
        if (flags.json === true) {
          printJson(body);
          return;
        }
        if (body.length === 0) {
          process.stdout.write('No root keys found\n');
          return;
        }
        process.stdout.write(formatKeys(body, flags.verbose === true));
      }),
    );

  withApiFlags(keyring.command('rotate'))
    .description('make a new active root key; the old key keeps verifying the tokens it signed')
    .option('--full', 'mark the old key rekeying instead of inactive (a full rekey)')
    .option('--verbose', 'print the full key ID instead of the first 8 characters')
    .action(
      apiAction(async (flags: RotateFlags) => {
        const { body } = await clientFor(flags).put<RootKeyRotateResult>(
          '/v1/operator/keyring/rotate',
          undefined,
          {
            full: flags.full === true,
          },
        );
        process.stdout.write(formatKeys([body.Key], flags.verbose === true));
      }),
    );

  withApiFlags(keyring.command('remove'))
    .description('remove a root key that is not active; tokens it signed stop verifying')
    .argument('<key-id>', 'key ID, or a prefix of it that matches one key')
    .option('--force', 'remove the key even if allocations that may still run hold identities it signed')
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
