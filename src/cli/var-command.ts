import type { Command } from 'commander';
import { ApiError } from '../http/client.js';
import type { VariableDecrypted, VariableMetadata } from '../server/variables/variable-shapes.js';
import {
  apiAction,
  clientFor,
  type NamespaceFlags,
  namespaceFor,
  printJson,
  withApiFlags,
  withNamespaceFlag,
} from './api-command.js';
import { formatVariable, formatVariableList } from './var-format.js';
import { itemsFromArgs } from './var-items.js';

interface OutputFlags extends NamespaceFlags {
  readonly out?: string;
  readonly json?: boolean;
}
type PutFlags = OutputFlags & { checkIndex?: string };
type GetFlags = OutputFlags & { item?: string };
type PurgeFlags = NamespaceFlags & { checkIndex?: string };

/** Registers `var put`, `get`, `list` and `purge`. */
export function registerVarCommands(program: Command): void {
  const variable = program.command('var').description('write, read, list and purge variables');

  withNamespaceFlag(withApiFlags(variable.command('put')))
    .description('write a variable from KEY=VALUE arguments or a JSON specification')
    .argument('<path>', 'variable path, such as nomad/jobs/web or app/db')
    .argument(
      '<items...>',
      'KEY=VALUE (VALUE @FILE or - reads a file or stdin), or @FILE / - with {"Items": {...}}',
    )
    .option('--check-index <index>', 'write only if the variable is at this modify index (0: only if absent)')
    .option('--out <format>', 'output: none (a one-line summary), json or table', 'none')
    .option('--json', 'print the written variable as JSON (same as -out json)')
    .action(
      apiAction(async (path: string, args: string[], flags: PutFlags) => {
        const items = await itemsFromArgs(args);
        const namespace = namespaceFor(flags);
        const checkIndex = parseCheckIndex(flags.checkIndex);
        const body = { Namespace: namespace ?? '', Path: path, Items: items };
        let written: VariableDecrypted;
        try {
          ({ body: written } = await clientFor(flags).put<VariableDecrypted>(variablePath(path), body, {
            namespace: namespace ?? undefined,
            cas: checkIndex === null ? undefined : String(checkIndex),
          }));
        } catch (err) {
          throw conflictError(err, path, checkIndex);
        }
        const format = outputFormat(flags, ['none', 'json', 'table']);
        if (format === 'json') printJson(written);
        else if (format === 'table') process.stdout.write(formatVariable(written));
        else {
          const verb = written.CreateIndex === written.ModifyIndex ? 'Created' : 'Updated';
          process.stdout.write(
            `${verb} variable "${written.Path}" with modify index ${written.ModifyIndex}\n`,
          );
        }
      }),
    );

  withNamespaceFlag(withApiFlags(variable.command('get')))
    .description('read a variable and its items')
    .argument('<path>', 'variable path')
    .option('--item <key>', 'print only the value of this item')
    .option('--out <format>', 'output: table or json', 'table')
    .option('--json', 'print the variable as JSON (same as -out json)')
    .action(
      apiAction(async (path: string, flags: GetFlags) => {
        const namespace = namespaceFor(flags) ?? undefined;
        const { body } = await clientFor(flags).get<VariableDecrypted>(variablePath(path), { namespace });
        if (flags.item !== undefined) {
          if (!Object.hasOwn(body.Items, flags.item)) {
            throw new Error(`variable "${path}" has no item "${flags.item}"`);
          }
          process.stdout.write(`${body.Items[flags.item]}\n`);
          return;
        }
        if (outputFormat(flags, ['table', 'json']) === 'json') printJson(body);
        else process.stdout.write(formatVariable(body));
      }),
    );

  withNamespaceFlag(withApiFlags(variable.command('list')))
    .description('list the variables under a path prefix that the token may list (-namespace=* for all)')
    .argument('[prefix]', 'path prefix', '')
    .option('--out <format>', 'output: table, terse (paths only) or json', 'table')
    .option('--json', 'print the variables as JSON (same as -out json)')
    .action(
      apiAction(async (prefix: string, flags: OutputFlags) => {
        const namespace = namespaceFor(flags) ?? undefined;
        const { body } = await clientFor(flags).get<VariableMetadata[]>('/v1/vars', { prefix, namespace });
        const format = outputFormat(flags, ['table', 'terse', 'json']);
        if (format === 'json') printJson(body);
        else if (format === 'terse') process.stdout.write(body.map((entry) => `${entry.Path}\n`).join(''));
        else if (body.length === 0) process.stdout.write('No matching variables found\n');
        else process.stdout.write(formatVariableList(body, namespace === '*'));
      }),
    );

  withNamespaceFlag(withApiFlags(variable.command('purge')))
    .description('delete a variable')
    .argument('<path>', 'variable path')
    .option('--check-index <index>', 'delete only if the variable is at this modify index')
    .action(
      apiAction(async (path: string, flags: PurgeFlags) => {
        const namespace = namespaceFor(flags) ?? undefined;
        const checkIndex = parseCheckIndex(flags.checkIndex);
        try {
          await clientFor(flags).delete(variablePath(path), {
            namespace,
            cas: checkIndex === null ? undefined : String(checkIndex),
          });
        } catch (err) {
          throw conflictError(err, path, checkIndex);
        }
        process.stdout.write(`Successfully purged variable "${path}"!\n`);
      }),
    );
}

/** Returns the API path of a variable: each segment percent-encoded, the slashes kept. */
function variablePath(path: string): string {
  return `/v1/var/${path.split('/').map(encodeURIComponent).join('/')}`;
}

function parseCheckIndex(value: string | undefined): number | null {
  if (value === undefined) return null;
  const index = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(index)) {
    throw new Error(`invalid -check-index ${JSON.stringify(value)}: expected a modify index, or 0`);
  }
  return index;
}

function outputFormat(flags: OutputFlags, allowed: readonly string[]): string {
  const format = flags.json === true ? 'json' : (flags.out ?? allowed[0]!);
  if (!allowed.includes(format)) {
    throw new Error(`invalid -out ${JSON.stringify(format)}: expected ${allowed.join(', ')}`);
  }
  return format;
}

/**
 * Turns the 409 of a lost check-and-set into an error with the variable's current modify index.
 * The server's body is the current variable, and only its ModifyIndex is used, never its items.
 */
function conflictError(err: unknown, path: string, checkIndex: number | null): unknown {
  if (!(err instanceof ApiError) || err.status !== 409) return err;
  let current = 0;
  try {
    current = (JSON.parse(err.serverMessage ?? '') as VariableMetadata).ModifyIndex;
  } catch {
    return new Error(`check-and-set conflict on variable "${path}"`);
  }
  const expected = checkIndex ?? 0;
  if (current === 0) {
    return new Error(
      `check-and-set conflict on variable "${path}": it does not exist, but -check-index is ${expected}`,
    );
  }
  return new Error(
    `check-and-set conflict on variable "${path}": its modify index is ${current}, not ${expected}; read it with signet var get and retry`,
  );
}
