import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LocalStateStore } from '../../src/client/local-state.js';
import { clientPaths } from '../../src/client/node-identity.js';
import type { AgentConfigInput } from '../../src/server/agent-config.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** A client agent process (`signet agent -client`) with raw_exec enabled, its data folder and its log. */
export class ClientProcess {
  readonly dir: string;
  readonly dataDir: string;
  readonly logPath: string;
  readonly configPath: string;
  #child: ChildProcess | null = null;
  #exit: Promise<number | null> | null = null;

  readonly name: string;

  constructor(dir: string, name = 'client-1') {
    this.name = name;
    this.dir = dir;
    this.dataDir = join(dir, 'data');
    this.logPath = join(dir, 'agent.log');
    this.configPath = join(dir, 'client.json');
  }

  async writeConfig(servers: string[], cpuTotalCompute = 4000): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const config: AgentConfigInput = {
      name: this.name,
      data_dir: this.dataDir,
      log_level: 'debug',
      client: { enabled: true, servers, cpu_total_compute: cpuTotalCompute, memory_total_mb: 4096 },
      plugin: { raw_exec: { config: { enabled: true } } },
    };
    await writeFile(this.configPath, JSON.stringify(config));
  }

  start(): void {
    const log = openSync(this.logPath, 'a');
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'agent', '-config', this.configPath],
        {
          cwd: REPO_ROOT,
          stdio: ['ignore', log, log],
        },
      );
      this.#child = child;
      this.#exit = new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    } finally {
      closeSync(log);
    }
  }

  /** Kills the agent with SIGKILL, as a crash would; its tasks keep running, as Nomad's do. */
  async kill(): Promise<void> {
    if (this.#child === null || this.#exit === null) return;
    this.#child.kill('SIGKILL');
    await this.#exit;
    this.#child = null;
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.#child === null || this.#exit === null) return null;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 15_000);
    const code = await this.#exit;
    clearTimeout(timer);
    this.#child = null;
    return code;
  }

  /**
   * Kills the process group of every task the client's local state records, as a test's cleanup
   * must: a stopped client leaves its tasks running, as Nomad's does. Call it after `stop`.
   */
  async killTasks(): Promise<void> {
    const { records } = await new LocalStateStore(clientPaths(this.dataDir).allocStateDir).loadAll();
    for (const record of records) {
      for (const task of Object.values(record.tasks)) {
        const pid = (task.handle as { data?: { pid?: unknown } } | null)?.data?.pid;
        if (typeof pid !== 'number') continue;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  }

  async nodeId(): Promise<string> {
    const identity = JSON.parse(await readFile(join(this.dataDir, 'client', 'node.json'), 'utf8')) as {
      ID: string;
    };
    return identity.ID;
  }

  async logTail(lines: number): Promise<string> {
    try {
      return (await readFile(this.logPath, 'utf8')).split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}
