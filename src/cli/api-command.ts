import type { Command } from 'commander';
import { ApiClient } from '../http/client.js';

/** Flags of every command that calls the HTTP API, with Nomad's names. */
export interface ApiFlags {
  readonly address?: string;
  readonly token?: string;
}

/**
 * Adds `-address` and `-token`, which every API command takes, as in Nomad. The command's help
 * then lists long flags with one dash, as Nomad users type them; `normalizeFlags` accepts both.
 */
export function withApiFlags(command: Command): Command {
  return command
    .configureHelp({ optionTerm: (option) => option.flags.replace(/(^|[ ,])--(?=[a-z])/g, '$1-') })
    .option(
      '--address <url>',
      'HTTP API address of a Signet agent (default: SIGNET_ADDR, NOMAD_ADDR or http://127.0.0.1:4646)',
    )
    .option('--token <secret>', 'ACL token sent as X-Nomad-Token (default: SIGNET_TOKEN or NOMAD_TOKEN)');
}

/** Flags of the commands that act in a namespace. */
export interface NamespaceFlags extends ApiFlags {
  readonly namespace?: string;
}

/**
 * Adds `-namespace`, as Nomad's namespaced commands take it. A command about objects outside any
 * namespace passes `ignoredBecause`: it accepts the flag, as Nomad's general options do, so that
 * scripts which set it everywhere keep working, and its help gives the reason it has no effect.
 */
export function withNamespaceFlag(command: Command, ignoredBecause?: string): Command {
  if (ignoredBecause !== undefined) {
    return command.option(
      '--namespace <name>',
      `accepted and ignored, because ${ignoredBecause} (default: none)`,
    );
  }
  return command.option(
    '--namespace <name>',
    'namespace of the request (default: SIGNET_NAMESPACE, NOMAD_NAMESPACE or default; * for all where lists allow it)',
  );
}

/** The namespace from `-namespace`, else SIGNET_NAMESPACE, else NOMAD_NAMESPACE; null when none is set. */
export function namespaceFor(
  flags: NamespaceFlags,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string | null {
  for (const candidate of [flags.namespace, env.SIGNET_NAMESPACE, env.NOMAD_NAMESPACE]) {
    if (candidate !== undefined && candidate !== '') return candidate;
  }
  return null;
}

export function clientFor(flags: ApiFlags): ApiClient {
  return new ApiClient({ address: flags.address, token: flags.token });
}

/**
 * Wraps a command action so that any failure prints one line on stderr and sets exit code 1,
 * instead of a stack trace.
 */
export function apiAction<Args extends unknown[]>(
  run: (...args: Args) => Promise<void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      await run(...args);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`Error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
      process.exitCode = 1;
    }
  };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);
}
