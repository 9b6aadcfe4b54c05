import { spawn } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI from source with a clean environment plus `env`, writing `stdin` to its standard
 * input (closed at once when absent), and resolves when it exits.
 */
export function signet(
  args: readonly string[],
  options: { env?: Record<string, string>; stdin?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      }),
    );
    child.stdin.end(options.stdin ?? '');
  });
}

/** Parses `key = value` lines, as `formatKeyValues` prints them, into a map. */
export function parseKeyValues(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^(\S(?:.*?\S)?)\s+=\s?(.*)$/.exec(line);
    if (match !== null) pairs.set(match[1]!, match[2]!);
  }
  return pairs;
}

/** Splits a table into its header cells and rows of cells. */
export function parseTable(stdout: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
  return { header: header!, rows };
}
