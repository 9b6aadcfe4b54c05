import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JobRegisterConfig, JobRegisterSummary } from './job-register-loop.js';

/**
 * The job registration loop of job-register-loop.ts, running in its own Node.js process so that
 * its CPU work stays off the benchmark process. It stops when its stdin closes, which also
 * happens when this process dies.
 */
export class JobLoad {
  readonly #child: ChildProcess;
  readonly #result: Promise<JobRegisterSummary>;

  private constructor(child: ChildProcess, result: Promise<JobRegisterSummary>) {
    this.#child = child;
    this.#result = result;
  }

  static start(config: JobRegisterConfig): JobLoad {
    const path = fileURLToPath(new URL('./job-register-loop.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', path, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
    });
    const result = new Promise<JobRegisterSummary>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        if (code !== 0) {
          reject(new Error(`the job registration loop exited with ${signal ?? `status ${code}`}`));
          return;
        }
        try {
          resolve(JSON.parse(last) as JobRegisterSummary);
        } catch {
          reject(new Error(`the job registration loop printed no JSON result; its last line was: ${last}`));
        }
      });
    });
    // Observed here so that a crash before stop() is not an unhandled rejection; stop() reports it.
    result.catch(() => {});
    return new JobLoad(child, result);
  }

  /** Closes the loop's stdin and returns its counts once it has exited. */
  stop(): Promise<JobRegisterSummary> {
    this.#child.stdin?.end();
    return this.#result;
  }
}
