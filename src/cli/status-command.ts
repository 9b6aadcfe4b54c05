import type { Command } from 'commander';
import {
  apiAction,
  clientFor,
  type NamespaceFlags,
  namespaceFor,
  withApiFlags,
  withNamespaceFlag,
} from './api-command.js';
import { findByPrefix } from './find-by-prefix.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';

interface StatusFlags extends NamespaceFlags, OutputFlags {
  readonly verbose?: boolean;
}

/** Contents and source of one `NOUN status ID` command. */
export interface StatusCommandSpec<T> {
  readonly description: string;
  /** Singular noun, as in the help text: `allocation`, `evaluation`. */
  readonly noun: string;
  readonly listPath: string;
  readonly itemPath: (id: string) => string;
  readonly verboseHelp: string;
  readonly describe: (item: T, verbose: boolean) => string;
}

/**
 * Adds `status <id>` under `parent`: finds one object by ID or unique ID prefix in the request's
 * namespace, then prints it as text, as JSON (`-json`) or through a template (`-t`), the way
 * Nomad's status commands do.
 */
export function addStatusCommand<T>(parent: Command, spec: StatusCommandSpec<T>): void {
  withOutputFlags(withNamespaceFlag(withApiFlags(parent.command('status'))), spec.noun)
    .description(spec.description)
    .argument('<id>', `${spec.noun} ID or ID prefix`)
    .option('--verbose', spec.verboseHelp, false)
    .action(
      apiAction(async (id: string, flags: StatusFlags) => {
        const output = outputChoice(flags);
        const namespace = namespaceFor(flags);
        const found = await findByPrefix<T>(clientFor(flags), {
          id,
          noun: `${spec.noun}(s)`,
          listPath: spec.listPath,
          itemPath: spec.itemPath,
          query: namespace === null ? {} : { namespace },
        });
        await printOutput(output, found, () => spec.describe(found, flags.verbose === true));
      }),
    );
}
