import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { NEVER_PASSED_HOST_VARIABLES } from '../src/client/task-env.js';
import { buildAgentConfig, type ServerConfigSpec, writeAgentConfig } from './agent-config-file.js';
import { type AgentEntry, signetArgs } from './agent-entry.js';
import { trackChild } from './child-registry.js';
import { type HttpResponse, httpRequest, type RequestOptions } from './http-client.js';
import { listenerPids } from './port-owner.js';
import { done, pending, WaitTimeoutError, waitFor } from './wait.js';

export type { AgentEntry } from './agent-entry.js';

/**
 * `starting`: the process runs but its HTTP API has not responded yet. `paused`: stopped with
 * SIGSTOP. `stopped`: no process (never started, or exited).
 */
export type ServerState = 'stopped' | 'starting' | 'running' | 'paused';

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** False when the process exited without the launcher having sent it a signal. */
  readonly expected: boolean;
}

export type AgentStartErrorCode = 'EADDRINUSE' | 'EXITED' | 'TIMEOUT';

/** Raised when an agent process does not come up; `logTail` is the end of what it printed. */
export class AgentStartError extends Error {
  override readonly name = 'AgentStartError';
  readonly code: AgentStartErrorCode;
  readonly logTail: string;

  constructor(code: AgentStartErrorCode, message: string, logTail: string) {
    super(`${message}\n--- end of the agent's log ---\n${logTail}`);
    this.code = code;
    this.logTail = logTail;
  }
}

export interface ServerHandleOptions {
  /** The server's own folder; data, config file and log live in it. */
  readonly dir: string;
  readonly spec: ServerConfigSpec;
  readonly entry: AgentEntry;
  readonly repoRoot: string;
  /** Deadline for the HTTP API to respond after a start, in milliseconds. */
  readonly startTimeoutMs: number;
  /** Time between SIGTERM and SIGKILL when stopping, in milliseconds. */
  readonly stopTimeoutMs: number;
  readonly onUnexpectedExit?: ((server: ServerHandle, exit: ExitInfo) => void) | undefined;
  /** Program and arguments that run the agent's command, such as `ip netns exec NAME`. Default none. */
  readonly commandPrefix?: readonly string[];
}

/** Restarts on the same ports retry this many times when a port is taken, waiting RESTART_RETRY_MS between. */
const RESTART_ATTEMPTS = 5;
const RESTART_RETRY_MS = 500;

/** One server agent process started by the launcher: its addresses, files and lifecycle. */
export class ServerHandle {
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  #spec: ServerConfigSpec;
  readonly #options: ServerHandleOptions;
  #child: ChildProcess | null = null;
  #exited: Promise<ExitInfo> | null = null;
  #paused = false;
  /** True once the HTTP API of the current process has responded. */
  #serving = false;
  #expectingExit = false;
  #retired = false;
  #lastExit: ExitInfo | null = null;
  /** Byte offset in the log file where the output of the current process starts. */
  #logOffset = 0;

  constructor(options: ServerHandleOptions) {
    this.#options = options;
    this.#spec = options.spec;
    this.dir = options.dir;
    this.configPath = join(options.dir, 'config.json');
    this.logPath = join(options.dir, 'agent.log');
  }

  get name(): string {
    return this.#spec.name;
  }
  get spec(): ServerConfigSpec {
    return this.#spec;
  }
  get dataDir(): string {
    return this.#spec.dataDir;
  }
  get httpAddr(): string {
    return `${this.#spec.host}:${this.#spec.httpPort}`;
  }
  get rpcAddr(): string {
    return `${this.#spec.host}:${this.#spec.rpcPort}`;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get state(): ServerState {
    if (this.#child === null) return 'stopped';
    if (this.#paused) return 'paused';
    return this.#serving ? 'running' : 'starting';
  }
  /** Exit of the last process, or null when none has ended yet. */
  get lastExit(): ExitInfo | null {
    return this.#lastExit;
  }

  /** Replaces the configuration (new ports after a port clash) and rewrites the config file. */
  async configure(spec: ServerConfigSpec): Promise<void> {
    if (this.#child !== null) throw new Error(`cannot reconfigure ${this.name} while it runs; stop it first`);
    this.#spec = spec;
    await writeAgentConfig(this.configPath, buildAgentConfig(spec));
  }

  /**
   * Starts the agent and waits until its HTTP API responds. Raises AgentStartError with code
   * EADDRINUSE when a port was taken, so the caller can pick other ports or try again.
   */
  async start(): Promise<void> {
    this.#refuseIfRetired();
    if (this.#child !== null)
      throw new Error(`cannot start ${this.name}: it is already running (pid ${this.pid})`);
    const [program, ...args] = [
      ...(this.#options.commandPrefix ?? []),
      process.execPath,
      ...this.#entryArgs(),
      'agent',
      '-server',
      '-config',
      this.configPath,
    ];

    this.#logOffset = await fileSize(this.logPath);
    // Checked again after the await, because retire() may have been called meanwhile.
    this.#refuseIfRetired();
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      // A JSON line like pino's, so that log readers see where each run of the agent begins.
      appendFileSync(
        logFd,
        `${JSON.stringify({ level: 30, time: Date.now(), launcher: true, msg: 'launcher is starting the agent', command: [program, ...args] })}\n`,
      );
      const env = { ...process.env };
      // A test runner marks its children through this variable; the agent is not a test file.
      delete env.NODE_TEST_CONTEXT;
      // config.json carries the cluster key. A SIGNET_ENCRYPT exported in the caller's shell (for
      // docker compose, say) would override it and make the kept root keys unreadable later, and
      // the operator's token is no business of the agent's.
      for (const name of NEVER_PASSED_HOST_VARIABLES) delete env[name];
      child = spawn(program!, args, {
        cwd: this.#options.repoRoot,
        env,
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      closeSync(logFd);
    }

    this.#child = child;
    this.#paused = false;
    this.#serving = false;
    this.#expectingExit = false;
    trackChild(child);
    this.#exited = new Promise((resolve) => {
      const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
        const exit: ExitInfo = { code, signal, expected: this.#expectingExit };
        const serving = this.#serving;
        if (this.#child === child) {
          this.#child = null;
          this.#paused = false;
          this.#serving = false;
          this.#lastExit = exit;
        }
        // An exit during the start is reported by start() itself, through AgentStartError.
        if (!exit.expected && serving) this.#options.onUnexpectedExit?.(this, exit);
        resolve(exit);
      };
      child.once('exit', onEnd);
      // Spawn failures (no such executable) emit 'error' and no 'exit'.
      child.once('error', () => {
        if (child.exitCode === null && child.signalCode === null) onEnd(null, null);
      });
    });

    await this.#waitUntilServing(child);
  }

  async #waitUntilServing(child: ChildProcess): Promise<void> {
    const exited = this.#exited!;
    const seen: { exit: ExitInfo | null } = { exit: null };
    void exited.then((info) => {
      seen.exit = info;
    });
    try {
      await waitFor(
        `${this.name} to serve HTTP on ${this.httpAddr}`,
        { timeoutMs: this.#options.startTimeoutMs, intervalMs: 100 },
        async () => {
          if (seen.exit !== null) return done(undefined);
          // Any HTTP status will do: the API is up, with or without a leader.
          await httpRequest(this.httpAddr, 'GET', '/v1/status/leader', { timeoutMs: 1_000 });
          // An agent left running from an earlier launch replies on the same port while this one
          // fails to bind it. Only a reply from this child counts, and the child exits soon on EADDRINUSE.
          const owners = child.pid === undefined ? null : listenerPids(this.#spec.httpPort, [child.pid]);
          if (owners !== null && owners.length === 0) {
            return pending(`${this.httpAddr} replies, but pid ${child.pid} does not listen on it`);
          }
          return done(undefined);
        },
      );
    } catch (err) {
      if (!(err instanceof WaitTimeoutError)) throw err;
      this.#expectingExit = true;
      child.kill('SIGKILL');
      await exited;
      throw new AgentStartError(
        'TIMEOUT',
        `${this.name} did not serve HTTP on ${this.httpAddr} within ${this.#options.startTimeoutMs} ms; log: ${this.logPath}`,
        await this.logTail(),
      );
    }
    if (seen.exit === null) {
      this.#serving = true;
      return;
    }

    const { code, signal } = seen.exit;
    const output = await this.readLog();
    const portTaken = /EADDRINUSE/.test(output);
    throw new AgentStartError(
      portTaken ? 'EADDRINUSE' : 'EXITED',
      `${this.name} exited during start (code ${code}, signal ${signal})${portTaken ? `: a port of ${this.httpAddr} or ${this.rpcAddr} is taken` : ''}; log: ${this.logPath}`,
      tail(output),
    );
  }

  #entryArgs(): string[] {
    return signetArgs(this.#options.entry, this.#options.repoRoot);
  }

  /**
   * Sends `signal` and waits until the process exits. A paused process also gets SIGCONT, so that
   * it can act on a catchable signal. Raises when the process is still alive after the stop timeout.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    const child = this.#child;
    if (child === null) throw new Error(`cannot signal ${this.name}: it is not running`);
    this.#expectingExit = true;
    child.kill(signal);
    if (this.#paused && signal !== 'SIGKILL') child.kill('SIGCONT');
    const exit = await this.#exitWithin(this.#options.stopTimeoutMs);
    if (exit === null) {
      throw new Error(
        `${this.name} (pid ${child.pid}) did not exit within ${this.#options.stopTimeoutMs} ms of ${signal}`,
      );
    }
    return exit;
  }

  /**
   * Rejects every later start. The launcher retires its servers when the cluster stops, so that a
   * restart racing the stop (a fault's heal, say) cannot leave a server running after it.
   */
  retire(): void {
    this.#retired = true;
  }

  #refuseIfRetired(): void {
    if (this.#retired) throw new Error(`cannot start ${this.name}: its cluster is stopping`);
  }

  /** Freezes the process with SIGSTOP: it keeps its sockets but runs no code, like a long GC pause. */
  pause(): void {
    if (this.#child === null) throw new Error(`cannot pause ${this.name}: it is not running`);
    this.#child.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (this.#child === null) throw new Error(`cannot resume ${this.name}: it is not running`);
    this.#child.kill('SIGCONT');
    this.#paused = false;
  }

  /**
   * Stops the process with SIGTERM and, after the stop timeout, SIGKILL. Returns how it exited, or
   * the last exit when it was not running.
   */
  async stop(): Promise<ExitInfo | null> {
    const child = this.#child;
    if (child === null) return this.#lastExit;
    this.#expectingExit = true;
    child.kill('SIGTERM');
    if (this.#paused) child.kill('SIGCONT');
    const exit = await this.#exitWithin(this.#options.stopTimeoutMs);
    if (exit !== null) return exit;
    child.kill('SIGKILL');
    return this.#exited!;
  }

  /** Resolves with the exit of the current process, or null when it is still running after `timeoutMs`. */
  async #exitWithin(timeoutMs: number): Promise<ExitInfo | null> {
    // The timer is cancelled once the process exits, so it never keeps the launcher alive.
    const timer = new AbortController();
    try {
      return await Promise.race([
        this.#exited!,
        delay(timeoutMs, null, { signal: timer.signal }).catch(() => null),
      ]);
    } finally {
      timer.abort();
    }
  }

  /**
   * Stops the server if it runs (SIGTERM) and starts it again with the same ports and data. When a
   * port was taken meanwhile, it tries again a few times before it raises.
   */
  async restart(): Promise<void> {
    await this.stop();
    for (let attempt = 1; ; attempt++) {
      try {
        await this.start();
        return;
      } catch (err) {
        if (!(err instanceof AgentStartError) || err.code !== 'EADDRINUSE' || attempt >= RESTART_ATTEMPTS)
          throw err;
        await delay(RESTART_RETRY_MS);
      }
    }
  }

  /** Sends an HTTP request to this server's API. */
  request(method: string, path: string, options?: RequestOptions): Promise<HttpResponse> {
    return httpRequest(this.httpAddr, method, path, options);
  }

  /** Returns what the current (or last) process printed, from its start. */
  async readLog(): Promise<string> {
    const file = await open(this.logPath, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.max(0, size - this.#logOffset);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, this.#logOffset);
      return buffer.toString('utf8');
    } finally {
      await file.close();
    }
  }

  /** Returns the last `lines` lines of the current process's output. */
  async logTail(lines = 30): Promise<string> {
    try {
      return tail(await this.readLog(), lines);
    } catch (err) {
      return `(log unreadable: ${(err as Error).message})`;
    }
  }
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
