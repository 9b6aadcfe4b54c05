import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../../child-registry.js';
import { type History, readHistoryFile } from '../history.js';
import type { OutcomeCounts, RunnerMessage, WorkloadConfig, WorkloadMessage } from '../workload/protocol.js';

const LOAD_PROCESS = fileURLToPath(new URL('../workload/load-process.ts', import.meta.url));

/** Time the load process has to finish its calls in flight and write its history after `stop`. */
const STOP_GRACE_MS = 30_000;

export interface StoppedWorkload extends OutcomeCounts {
  readonly history: History;
  /** First operation id and process id that the load process left unused. */
  readonly nextId: number;
  readonly nextProcess: number;
}

/** The load process of one run, started with fork() so that runner and load talk over IPC. */
export class LoadProcessHandle {
  readonly #child: ChildProcess;
  readonly #config: WorkloadConfig;
  readonly #stopped: Promise<StoppedWorkload>;
  #latest: OutcomeCounts = { operations: 0, ok: 0, fail: 0, unknown: 0 };

  private constructor(config: WorkloadConfig, onProgress: (counts: OutcomeCounts) => void) {
    this.#config = config;
    this.#child = fork(LOAD_PROCESS, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    trackChild(this.#child);
    this.#stopped = new Promise((resolve, reject) => {
      // The child exits right after its last message, maybe before its history file is read.
      let finished = false;
      this.#child.on('message', (message: WorkloadMessage) => {
        if (message.type === 'ready') {
          this.#child.send({ type: 'start', config } satisfies RunnerMessage);
        } else if (message.type === 'progress') {
          this.#latest = message;
          onProgress(message);
        } else if (message.type === 'error') {
          reject(new Error(`the load process failed: ${message.message}`));
        } else {
          finished = true;
          const { nextId, nextProcess, ...counts } = message;
          this.#latest = counts;
          readHistoryFile(this.#config.historyFile).then(
            (history) => resolve({ ...counts, history, nextId, nextProcess }),
            reject,
          );
        }
      });
      this.#child.once('exit', (code, signal) => {
        if (finished) return;
        reject(new Error(`the load process exited early (code ${code}, signal ${signal})`));
      });
    });
    // Until stop() awaits it, a failure is only recorded, not an unhandled rejection.
    this.#stopped.catch(() => undefined);
  }

  static start(config: WorkloadConfig, onProgress: (counts: OutcomeCounts) => void): LoadProcessHandle {
    return new LoadProcessHandle(config, onProgress);
  }

  /** Counts from the load process's last report. */
  get counts(): OutcomeCounts {
    return this.#latest;
  }

  /** Tells the load process to stop, and returns its history once it has written it. */
  async stop(): Promise<StoppedWorkload> {
    if (this.#child.connected) this.#child.send({ type: 'stop' } satisfies RunnerMessage);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_GRACE_MS);
    try {
      return await this.#stopped;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the load process at once, for a run that is being aborted. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}
