import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../../child-registry.js';
import type { DelayRule } from './delay-proxy.js';
import type { DelayProxyReply, SetRulesCommand } from './delay-proxy-protocol.js';

const PROXY_PROCESS = fileURLToPath(new URL('./delay-proxy-process.ts', import.meta.url));
/** Time a proxy process has to start listening, in ms. It is long because tsx compiles on start. */
const START_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 10_000;
/** Time a proxy has to exit after its stdin closes, before SIGKILL, in ms. */
const STOP_TIMEOUT_MS = 5_000;

export interface DelayProxyProcessOptions {
  /** Program and arguments put before `node`, such as `ip netns exec NAME`. It must exec node. */
  readonly commandPrefix: readonly string[];
  readonly listenHost: string;
  readonly listenPort: number;
  readonly targetHost: string;
  readonly targetPort: number;
  readonly seed: number;
  /** Names the proxy in errors, such as the server it is in front of. */
  readonly label: string;
}

/**
 * The runner's end of one delay proxy process (delay-proxy-process.ts). The process is registered
 * with the child registry, so it is killed when the runner exits, and it exits by itself when its
 * stdin closes, which also covers a runner that was SIGKILLed.
 */
export class DelayProxyProcess {
  readonly label: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  #nextId = 1;
  #exitReason: string | null = null;
  #stopping = false;
  #onListening: () => void = () => undefined;

  private constructor(child: ChildProcess, label: string) {
    this.#child = child;
    this.label = label;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitReason = `exited (code ${code}, signal ${signal})`;
        this.#failAll();
        resolve();
      });
      child.once('error', (err) => {
        this.#exitReason = `failed to start: ${err.message}`;
        this.#failAll();
        resolve();
      });
    });
  }

  /** Starts a proxy process and resolves once it listens. Raises when it exits or times out first. */
  static async start(options: DelayProxyProcessOptions): Promise<DelayProxyProcess> {
    const [program, ...prefixArgs] = [...options.commandPrefix, process.execPath];
    const args = [
      ...prefixArgs,
      '--import',
      'tsx',
      PROXY_PROCESS,
      '--listen',
      `${options.listenHost}:${options.listenPort}`,
      '--target',
      `${options.targetHost}:${options.targetPort}`,
      '--seed',
      String(options.seed),
    ];
    const child = spawn(program!, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    trackChild(child);
    // Writing to a proxy that has died fails with EPIPE. The exit handler already fails its commands.
    child.stdin!.on('error', () => undefined);
    const proxy = new DelayProxyProcess(child, options.label);
    const listening = new Promise<void>((resolve, reject) => {
      proxy.#onListening = resolve;
      void proxy.#exited.then(() => reject(new Error(`delay proxy ${options.label} ${proxy.#exitReason}`)));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => proxy.#onLine(line));
    try {
      await withTimeout(listening, START_TIMEOUT_MS, `delay proxy ${options.label} to listen`);
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    return proxy;
  }

  /** Replaces the proxy's rules and resolves once it applied them. */
  setRules(rules: readonly DelayRule[]): Promise<void> {
    if (this.#exitReason !== null)
      return Promise.reject(new Error(`delay proxy ${this.label} ${this.#exitReason}`));
    const id = this.#nextId++;
    const applied = new Promise<void>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    this.#child.stdin!.write(`${JSON.stringify({ id, rules } satisfies SetRulesCommand)}\n`);
    return withTimeout(applied, COMMAND_TIMEOUT_MS, `delay proxy ${this.label} to apply its rules`);
  }

  /**
   * The reason the proxy exited without stop(), or null while it runs or after stop(). A dead proxy cuts
   * its server off from every peer, because the DNAT rules still send the peers to its port.
   */
  get unexpectedExit(): string | null {
    return this.#stopping ? null : this.#exitReason;
  }

  /** Closes the proxy's stdin, which makes it exit, and SIGKILLs it when it has not exited in time. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#exitReason !== null) return;
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  #onLine(line: string): void {
    let message: DelayProxyReply;
    try {
      message = JSON.parse(line) as DelayProxyReply;
    } catch {
      return;
    }
    if (message.type === 'listening') {
      this.#onListening();
      return;
    }
    if (message.id === null) return;
    const waiting = this.#waiting.get(message.id);
    if (waiting === undefined) return;
    this.#waiting.delete(message.id);
    if (message.type === 'applied') waiting.resolve();
    else waiting.reject(new Error(`delay proxy ${this.label} rejected its rules: ${message.message}`));
  }

  #failAll(): void {
    for (const waiting of this.#waiting.values())
      waiting.reject(new Error(`delay proxy ${this.label} ${this.#exitReason}`));
    this.#waiting.clear();
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
