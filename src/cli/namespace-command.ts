import type { Command } from 'commander';
import type { ApiClient } from '../http/client.js';
import { ApiError } from '../http/client.js';
import type { Namespace } from '../state/namespaces.js';
import { type ApiFlags, apiAction, clientFor, withApiFlags, withNamespaceFlag } from './api-command.js';
import { compareStrings } from './display.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';
import { formatKeyValues, formatTable } from './table.js';

type JsonFlags = ApiFlags & OutputFlags;

/** Reason these commands ignore -namespace. In Nomad, the general -namespace flag has no effect on them either. */
const NAMESPACE_IGNORED =
  'namespaces belong to no namespace; commands that act on one take its name as an argument';

/** Registers `namespace apply`, `list`, `status` and `delete`. */
export function registerNamespaceCommands(program: Command): void {
  const namespace = program
    .command('namespace')
    .description('create, list, show (status) and delete namespaces');

  withNamespaceFlag(withApiFlags(namespace.command('apply')), NAMESPACE_IGNORED)
    .description('create a namespace, or update the fields given as flags of an existing one')
    .argument('<name>', 'namespace name: letters, digits and dashes, up to 128 characters')
    .option(
      '--description <text>',
      'human-readable description, at most 256 bytes (default: the current one, or empty for a new namespace)',
    )
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

  withOutputFlags(withNamespaceFlag(withApiFlags(namespace.command('list')), NAMESPACE_IGNORED), 'namespaces')
    .description('list the namespaces')
    .action(
      apiAction(async (flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<Namespace[]>('/v1/namespaces');
        await printOutput(output, body, () =>
          body.length === 0
            ? 'No namespaces found\n'
            : formatTable(
                ['Name', 'Description'],
                body.map((entry) => [entry.Name, entry.Description]),
              ),
        );
      }),
    );

  withOutputFlags(
    withNamespaceFlag(withApiFlags(namespace.command('status')), NAMESPACE_IGNORED),
    'namespace',
  )
    .description('show one namespace')
    .argument('<name>', 'namespace name')
    .action(
      apiAction(async (name: string, flags: JsonFlags) => {
        const output = outputChoice(flags);
        const { body } = await clientFor(flags).get<Namespace>(namespacePath(name));
        await printOutput(output, body, () => formatNamespace(body));
      }),
    );

  withNamespaceFlag(withApiFlags(namespace.command('delete')), NAMESPACE_IGNORED)
    .description('delete a namespace (the default namespace cannot be deleted)')
    .argument('<name>', 'namespace name')
    .action(
      apiAction(async (name: string, flags: ApiFlags) => {
        await clientFor(flags).delete(namespacePath(name));
        process.stdout.write(`Deleted namespace "${name}"\n`);
      }),
    );
}

/** Formats a namespace as Nomad's `namespace status` prints it, with its metadata when it has any. */
function formatNamespace(body: Namespace): string {
  const fields = formatKeyValues([
    ['Name', body.Name],
    ['Description', body.Description],
    ['Create Index', String(body.CreateIndex)],
    ['Modify Index', String(body.ModifyIndex)],
  ]);
  const meta = Object.entries(body.Meta ?? {}).sort(([a], [b]) => compareStrings(a, b));
  return meta.length === 0 ? fields : `${fields}\nMetadata\n${formatKeyValues(meta)}`;
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
