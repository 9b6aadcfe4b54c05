import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../cluster/faults.ts', import.meta.url));
const SUMMARY = /^operations=(\d+) faults=(\d+) violations=(\d+)$/;

/** What one run of `npm run faults` printed and how it ended. */
export interface FaultCliRun {
  readonly code: number | null;
  readonly stdout: string;
  /** The counts of the last line, or null when the run printed no summary. */
  readonly summary: { operations: number; faults: number; violations: number } | null;
}

/**
 * Runs cluster/faults.ts with `args`, as `npm run faults` does, and parses its last line. After
 * `timeoutMs` the run gets SIGINT, so it still removes its servers and namespaces.
 */
export function runFaultCli(args: readonly string[], timeoutMs: number): Promise<FaultCliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: timeoutMs,
      killSignal: 'SIGINT',
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const match = SUMMARY.exec(stdout.trimEnd().split('\n').at(-1) ?? '');
      const summary =
        match === null
          ? null
          : { operations: Number(match[1]), faults: Number(match[2]), violations: Number(match[3]) };
      resolve({ code, stdout, summary });
    });
  });
}
