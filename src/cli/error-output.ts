import type { Command } from 'commander';

/** A `--flag` as commander names it in its messages: after a quote, a bracket, a comma or a space. */
const DOUBLE_DASH_FLAG = /(^|[\s,'"(])--(?=[A-Za-z])/g;

/** Rewrites the `--flag` names in a commander message to the one-dash form that Signet's help and docs use. */
export function singleDashFlags(message: string): string {
  return message.replace(DOUBLE_DASH_FLAG, '$1-');
}

/**
 * Makes commander's parse errors (unknown option, missing option argument) name flags with one
 * dash, because `normalizeFlags` has doubled the dash the user typed. Commands created on
 * `program` afterwards inherit this output setting, so call it before registering them.
 */
export function configureErrorOutput(program: Command): Command {
  return program.configureOutput({ outputError: (message, write) => write(singleDashFlags(message)) });
}
