import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { NEVER_PASSED_HOST_VARIABLES } from '../src/client/task-env.js';
import type { AgentConfigInput, LogLevel } from '../src/server/agent-config.js';
import { type AgentEntry, findRepoRoot, signetArgs } from './agent-entry.js';
import { trackChild } from './child-registry.js';
import type { ExitInfo } from './server-handle.js';
import { killTaskProcessGroups, killTaskProcessGroupsSync, type TaskProcessGroup } from './task-processes.js';

export interface ClientHandleOptions {
  /** Default 'source' (tsx); 'dist' runs dist/src/cli/main.js. */
  readonly entry?: AgentEntry;
  /** Agent log_level. Default 'debug', which the process tests read. */
  readonly logLevel?: LogLevel;
  /** Time between SIGTERM and SIGKILL in stop(), in ms. Default 15 000. */
  readonly stopTimeoutMs?: number;
  /** Called when the agent exits without having been signalled by this handle (a crash). */
  readonly onUnexpectedExit?: (client: ClientHandle, exit: ExitInfo) => void;
}

/**
 * A client agent process (`signet agent -config client.json`) with raw_exec enabled: its folder
 * (`client.json`, `data/`, `agent.log`) and its lifecycle. Its tasks outlive it, as Nomad's do,
 * until killTasks().
 */
export class ClientHandle {
  readonly name: string;
  readonly dir: string;
  readonly dataDir: string;
  readonly logPath: string;
  readonly configPath: string;
  readonly #options: ClientHandleOptions;
  readonly #repoRoot = findRepoRoot();
  #child: ChildProcess | null = null;
  #exit: Promise<ExitInfo> | null = null;
  #expectingExit = false;

  constructor(dir: string, name = 'client-1', options: ClientHandleOptions = {}) {
    this.name = name;
    this.dir = dir;
    this.dataDir = join(dir, 'data');
    this.logPath = join(dir, 'agent.log');
    this.configPath = join(dir, 'client.json');
    this.#options = options;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** Writes client.json: the servers' RPC addresses, raw_exec on, and the node's capacity. */
  async writeConfig(servers: readonly string[], cpuTotalCompute = 4000): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const config: AgentConfigInput = {
      name: this.name,
      data_dir: this.dataDir,
      log_level: this.#options.logLevel ?? 'debug',
      client: {
        enabled: true,
        servers: [...servers],
        cpu_total_compute: cpuTotalCompute,
        memory_total_mb: 4096,
      },
      plugin: { raw_exec: { config: { enabled: true } } },
    };
    await writeFile(this.configPath, `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Spawns the agent; it does not wait for it to register. Call writeConfig first. */
  start(): void {
    if (this.#child !== null)
      throw new Error(`cannot start ${this.name}: it is already running (pid ${this.pid})`);
    const args = [
      ...signetArgs(this.#options.entry ?? 'source', this.#repoRoot),
      'agent',
      '-config',
      this.configPath,
    ];
    const env = { ...process.env };
    // A test runner marks its children through this variable; the agent is not a test file.
    delete env.NODE_TEST_CONTEXT;
    // A client needs neither the cluster key nor the operator's token, and its raw_exec tasks
    // inherit what it has unless buildTaskEnv filters it out.
    for (const name of NEVER_PASSED_HOST_VARIABLES) delete env[name];
    const log = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { cwd: this.#repoRoot, env, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    this.#child = child;
    this.#expectingExit = false;
    // An exiting launcher SIGKILLs the agent and its tasks.
    trackChild(child, () => this.killNowSync());
    this.#exit = new Promise((resolve) => {
      const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
        const exit: ExitInfo = { code, signal, expected: this.#expectingExit };
        if (this.#child === child) this.#child = null;
        if (!exit.expected) this.#options.onUnexpectedExit?.(this, exit);
        resolve(exit);
      };
      child.once('exit', onEnd);
      // Spawn failures (no such executable) emit 'error' and no 'exit'.
      child.once('error', () => {
        if (child.exitCode === null && child.signalCode === null) onEnd(null, null);
      });
    });
  }

  /** Kills the agent with SIGKILL, as a crash would; its tasks keep running, as Nomad's do. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === null) return;
    this.#expectingExit = true;
    child.kill('SIGKILL');
    await this.#exit;
  }

  /** Sends SIGTERM (SIGKILL after the stop timeout) and resolves with the exit code; tasks keep running. */
  async stop(): Promise<number | null> {
    const child = this.#child;
    if (child === null) return null;
    this.#expectingExit = true;
    child.kill('SIGTERM');
    const timer = new AbortController();
    const timeoutMs = this.#options.stopTimeoutMs ?? 15_000;
    const exit = await Promise.race([
      this.#exit!,
      delay(timeoutMs, null, { signal: timer.signal }).catch(() => null),
    ]);
    timer.abort();
    if (exit !== null) return exit.code;
    child.kill('SIGKILL');
    return (await this.#exit!).code;
  }

  /**
   * Kills the process group of every task that the client's local state records and waits until
   * none of their processes runs. Call it after stop(), so the agent does not start them again.
   */
  killTasks(timeoutMs = 10_000): Promise<TaskProcessGroup[]> {
    return killTaskProcessGroups(this.dataDir, timeoutMs);
  }

  /** SIGKILLs the agent and its tasks without waiting, for a process 'exit' handler. */
  killNowSync(): void {
    this.#expectingExit = true;
    this.#child?.kill('SIGKILL');
    killTaskProcessGroupsSync(this.dataDir);
  }

  /** Returns the node ID from the identity file that the agent writes at its first start. */
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
