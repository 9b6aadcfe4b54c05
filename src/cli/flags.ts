/**
 * Rewrites Nomad-style single-dash long flags into the double-dash form that commander parses.
 *
 * The rule: an argument that starts with one dash followed by a letter and at least one more
 * character (`-address=http://x`, `-json`, `-peer-id`) gets a second dash. A one-letter flag with
 * an attached value (`-t={{.ID}}`) is split into the flag and the value, because Go's flag
 * package reads it that way and commander would keep the `=` in the value. Everything else is
 * left alone:
 * - one-letter short flags (`-v`, `-h`, `-t`), so commander's short options keep working;
 * - arguments that already start with `--`, a lone `-` (stdin by convention), and arguments
 *   that do not start with a letter after the dash (`-5`, `-.5`);
 * - every argument after a bare `--`, which ends the options.
 *
 * A consequence: a flag value that itself starts with a dash and a word (`-description -x-`)
 * would be read as a flag, so such values must use the `-flag=value` form.
 */
export function normalizeFlags(args: readonly string[]): string[] {
  const normalized: string[] = [];
  let optionsEnded = false;
  for (const arg of args) {
    if (optionsEnded) {
      normalized.push(arg);
      continue;
    }
    if (arg === '--') {
      optionsEnded = true;
      normalized.push(arg);
      continue;
    }
    if (isShortFlagWithValue(arg)) normalized.push(arg.slice(0, 2), arg.slice(3));
    else normalized.push(isSingleDashLongFlag(arg) ? `-${arg}` : arg);
  }
  return normalized;
}

function isShortFlagWithValue(arg: string): boolean {
  return arg.length >= 3 && arg[0] === '-' && arg[2] === '=' && /^[A-Za-z]$/.test(arg[1]!);
}

function isSingleDashLongFlag(arg: string): boolean {
  if (arg.length < 3 || arg[0] !== '-' || arg[1] === '-' || arg[2] === '=') return false;
  return /^[A-Za-z]$/.test(arg[1]!);
}
