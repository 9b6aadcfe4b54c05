import type { Command } from 'commander';
import { ApiError } from '../http/client.js';
import type { VariableDecrypted, VariableMetadata } from '../server/variables/variable-shapes.js';
import type { ParsedTemplate } from '../template/index.js';
import {
  apiAction,
  clientFor,
  type NamespaceFlags,
  namespaceFor,
  withApiFlags,
  withNamespaceFlag,
} from './api-command.js';
import { parseCliTemplate, renderCliTemplate } from './output-flags.js';
import { formatVariable, formatVariableList } from './var-format.js';
import { itemsFromArgs } from './var-items.js';

interface OutputFlags extends NamespaceFlags {
  readonly out: string;
  readonly json?: boolean;
  /** Go text/template source from `-template` or `-t`. */
  readonly template?: string;
}

/** Help of `-template`, shared by the var commands. */
const TEMPLATE_HELP =
  'Go text/template to print the result with, applied to the JSON object; implies -out go-template (default: none)';
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
    .option(
      '--check-index <index>',
      'write only if the variable is at this modify index, 0 for only if absent (default: no check)',
    )
    .option('--out <format>', 'output: none (a one-line summary), json, table or go-template', 'none')
    .option('-t, --template <template>', TEMPLATE_HELP)
    .option('--json', 'print the written variable as JSON (same as -out json)', false)
    .action(
      apiAction(async (path: string, args: string[], flags: PutFlags) => {
        const format = outputFormat(flags, ['none', 'json', 'table']);
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
        await printVariableOutput(format, written, () => {
          if (format.kind === 'table') return formatVariable(written);
          const verb = written.CreateIndex === written.ModifyIndex ? 'Created' : 'Updated';
          return `${verb} variable "${written.Path}" with modify index ${written.ModifyIndex}\n`;
        });
      }),
    );

  withNamespaceFlag(withApiFlags(variable.command('get')))
    .description('read a variable and its items')
    .argument('<path>', 'variable path')
    .option(
      '--item <key>',
      'print only the value of this item, ahead of any other output flag (default: none)',
    )
    .option('--out <format>', 'output: table, json or go-template', 'table')
    .option('-t, --template <template>', TEMPLATE_HELP)
    .option('--json', 'print the variable as JSON (same as -out json)', false)
    .action(
      apiAction(async (path: string, flags: GetFlags) => {
        const format = outputFormat(flags, ['table', 'json']);
        const namespace = namespaceFor(flags) ?? undefined;
        const { body } = await clientFor(flags).get<VariableDecrypted>(variablePath(path), { namespace });
        if (flags.item !== undefined) {
          if (!Object.hasOwn(body.Items, flags.item)) {
            throw new Error(`variable "${path}" has no item "${flags.item}"`);
          }
          process.stdout.write(`${body.Items[flags.item]}\n`);
          return;
        }
        await printVariableOutput(format, body, () => formatVariable(body));
      }),
    );

  withNamespaceFlag(withApiFlags(variable.command('list')))
    .description('list the variables under a path prefix that the token may list (-namespace=* for all)')
    .argument('[prefix]', 'path prefix', '')
    .option('--out <format>', 'output: table, terse (paths only), json or go-template', 'table')
    .option('-t, --template <template>', TEMPLATE_HELP)
    .option('--json', 'print the variables as JSON (same as -out json)', false)
    .action(
      apiAction(async (prefix: string, flags: OutputFlags) => {
        const format = outputFormat(flags, ['table', 'terse', 'json']);
        const namespace = namespaceFor(flags) ?? undefined;
        const { body } = await clientFor(flags).get<VariableMetadata[]>('/v1/vars', { prefix, namespace });
        await printVariableOutput(format, body, () => {
          if (format.kind === 'terse') return body.map((entry) => `${entry.Path}\n`).join('');
          if (body.length === 0) return 'No matching variables found\n';
          return formatVariableList(body, namespace === '*');
        });
      }),
    );

  withNamespaceFlag(withApiFlags(variable.command('purge')))
    .description('delete a variable')
    .argument('<path>', 'variable path')
    .option(
      '--check-index <index>',
      'delete only if the variable is at this modify index (default: no check)',
    )
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

/** An output format of the var commands: one of their -out values, or a parsed template. */
type VariableOutput =
  | { readonly kind: string }
  | { readonly kind: 'go-template'; readonly template: ParsedTemplate };

/**
 * Reads `-out`, `-json` and `-template` as Nomad's var commands do, before any request is sent.
 * `-template` alone implies `-out go-template`; `-out go-template` needs a template; `-json` and
 * a template exclude each other. Throws an Error with one line.
 */
function outputFormat(flags: OutputFlags, allowed: readonly string[]): VariableOutput {
  if (flags.json === true && flags.template !== undefined) {
    throw new Error('-json and -template (-t) cannot be used together: choose one output format');
  }
  // The default -out gives way to a template, so `-template T` alone means `-out go-template`.
  let format = flags.out;
  if (flags.json === true) format = 'json';
  else if (flags.template !== undefined && flags.out === allowed[0]) format = 'go-template';
  if (format === 'go-template') {
    if (flags.template === undefined) {
      throw new Error('-out go-template needs the template in -template (or -t)');
    }
    return { kind: format, template: parseCliTemplate(flags.template) };
  }
  if (!allowed.includes(format)) {
    throw new Error(
      `invalid -out ${JSON.stringify(format)}: expected ${[...allowed, 'go-template'].join(', ')}`,
    );
  }
  if (flags.template !== undefined) {
    throw new Error(`-template (-t) needs -out go-template, not -out ${format}`);
  }
  return { kind: format };
}

/** Prints a var command's result as JSON, through its template, or as `human()` returns it. */
async function printVariableOutput(
  format: VariableOutput,
  value: unknown,
  human: () => string,
): Promise<void> {
  if ('template' in format) {
    const text = await renderCliTemplate(format.template, value);
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  } else if (format.kind === 'json') {
    process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);
  } else {
    process.stdout.write(human());
  }
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
