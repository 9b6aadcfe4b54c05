import { InvalidArgumentError } from 'commander';

/**
 * Rewrites Nomad-style single-dash long flags (`-servers 3`, `-data=DIR`) into the double-dash
 * form that commander parses. Single letters (`-h`) and negative numbers are left alone, and so is
 * everything after `--`.
 */
export function nomadStyleArgv(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, i) =>
    (end >= 0 && i > end) || !/^-[A-Za-z][A-Za-z0-9-]+(=.*)?$/.test(arg) ? arg : `-${arg}`,
  );
}

/** Returns a commander argument parser for a whole number from `min`; commander names the flag in its error. */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`expected a whole number from ${min}, got ${JSON.stringify(value)}`);
    }
    return parsed;
  };
}
