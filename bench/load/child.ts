import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `script` (a file beside this one) as its own Node.js process with tsx, passing `config` as
 * JSON in argv, and returns the JSON object it prints as its last stdout line. Its stderr goes to
 * ours, so that its errors show in the run. A load generator in its own process keeps its CPU
 * work off the process under test.
 */
export function runChild<T>(script: string, config: object, timeoutMs: number): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with ${signal ?? `status ${code}`} (timeout ${timeoutMs} ms)`));
        return;
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result; its last line was: ${last.slice(0, 200)}`));
      }
    });
  });
}

/** Latency summary of a series of operations, in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly elapsedMs: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Summarizes the latencies (ms) of operations that took `elapsedMs` in all. */
export function summarize(latenciesMs: readonly number[], elapsedMs: number): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (fraction: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    elapsedMs,
    perSecond: sorted.length / (elapsedMs / 1000),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: sorted.at(-1) ?? 0,
    meanMs: sorted.length === 0 ? 0 : total / sorted.length,
  };
}
