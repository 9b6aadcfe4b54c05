import type { Command } from 'commander';
import type { ApiClient } from '../http/client.js';
import { ApiError } from '../http/client.js';
import type { Namespace } from '../state/namespaces.js';
import { type ApiFlags, apiAction, clientFor, printJson, withApiFlags } from './api-command.js';
import { formatKeyValues, formatTable } from './table.js';

type JsonFlags = ApiFlags & { json?: boolean };

/** Registers `namespace apply`, `list`, `status` and `delete`. */
export function registerNamespaceCommands(program: Command): void {
  const namespace = program
    .command('namespace')
    .description('create, list, show (status) and delete namespaces');

  withApiFlags(namespace.command('apply'))
    .description('create a namespace, or update the fields given as flags of an existing one')
    .argument('<name>', 'namespace name: letters, digits and dashes, up to 128 characters')
    .option('--description <text>', 'human-readable description (at most 256 bytes)')
    .action(
      apiAction(async (name: string, flags: ApiFlags & { description?: string }) => {
        const client = clientFor(flags);
        // As in Nomad, fields without a flag keep their current value.
        const existing = await findNamespace(client, name);
        const body = {
          Name: name,
          Description: flags.description ?? existing?.Description ?? '',
          Meta: existing?.Meta ?? null,
        };
        const { index } = await client.put(namespacePath(name), body);
        process.stdout.write(`Applied namespace "${name}"${index === null ? '' : ` at index ${index}`}\n`);
      }),
    );

  withApiFlags(namespace.command('list'))
    .description('list the namespaces')
    .option('--json', 'print the namespaces as JSON')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const { body } = await clientFor(flags).get<Namespace[]>('/v1/namespaces');
        if (flags.json === true) {
          printJson(body);
          return;
        }
        if (body.length === 0) {
          process.stdout.write('No namespaces found\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['Name', 'Description'],
            body.map((entry) => [entry.Name, entry.Description]),
          ),
        );
      }),
    );

  withApiFlags(namespace.command('status'))
    .description('show one namespace')
    .argument('<name>', 'namespace name')
    .option('--json', 'print the namespace as JSON')
    .action(
      apiAction(async (name: string, flags: JsonFlags) => {
        const { body } = await clientFor(flags).get<Namespace>(namespacePath(name));
        if (flags.json === true) {
          printJson(body);
          return;
        }
        process.stdout.write(
          formatKeyValues([
            ['Name', body.Name],
            ['Description', body.Description],
            ['Create Index', String(body.CreateIndex)],
            ['Modify Index', String(body.ModifyIndex)],
          ]),
        );
        const meta = Object.entries(body.Meta ?? {}).sort(([a], [b]) => compareStrings(a, b));
        if (meta.length > 0) process.stdout.write(`\nMetadata\n${formatKeyValues(meta)}`);
      }),
    );

  withApiFlags(namespace.command('delete'))
    .description('delete a namespace (the default namespace cannot be deleted)')
    .argument('<name>', 'namespace name')
    .action(
      apiAction(async (name: string, flags: ApiFlags) => {
        await clientFor(flags).delete(namespacePath(name));
        process.stdout.write(`Deleted namespace "${name}"\n`);
      }),
    );
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

function namespacePath(name: string): string {
  return `/v1/namespace/${encodeURIComponent(name)}`;
}

async function findNamespace(client: ApiClient, name: string): Promise<Namespace | null> {
  try {
    return (await client.get<Namespace>(namespacePath(name))).body;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
