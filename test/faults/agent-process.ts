import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';

/**
 * Self-contained process harness for the fault tests: it starts `signet agent -server` from source
 * as child processes on 127.0.0.1, with free ports from the OS and data in a temporary folder.
 */

const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const CLI_ENTRY = join(REPO_ROOT, 'src/cli/main.ts');

/** Returns `count` distinct free ports on 127.0.0.1. Another process may still take one before the agent binds it. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true });
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('listen returned no port');
    ports.push(address.port);
    servers.push(server);
  }
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}

export interface AgentSpec {
  readonly name: string;
  readonly httpPort: number;
  readonly rpcPort: number;
  readonly dataDir: string;
  readonly bootstrapExpect: number;
  readonly encrypt?: string;
  readonly retryJoin: readonly string[];
  /** Agent log_level; default info. */
  readonly logLevel?: string;
}

/** One agent process; its stdout (pino JSON lines) and stderr go to `logPath`. */
export class AgentProcess {
  readonly spec: AgentSpec;
  readonly configPath: string;
  readonly logPath: string;
  #child: ChildProcess | null = null;
  #exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;

  constructor(spec: AgentSpec, folder: string) {
    this.spec = spec;
    this.configPath = join(folder, `${spec.name}.json`);
    this.logPath = join(folder, `${spec.name}.log`);
  }

  get httpAddr(): string {
    return `127.0.0.1:${this.spec.httpPort}`;
  }

  get rpcAddr(): string {
    return `127.0.0.1:${this.spec.rpcPort}`;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    const server: Record<string, unknown> = {
      enabled: true,
      bootstrap_expect: this.spec.bootstrapExpect,
      server_join: { retry_join: this.spec.retryJoin },
    };
    if (this.spec.encrypt !== undefined) server.encrypt = this.spec.encrypt;
    const config = {
      name: this.spec.name,
      data_dir: this.spec.dataDir,
      bind_addr: '127.0.0.1',
      ports: { http: this.spec.httpPort, rpc: this.spec.rpcPort },
      server,
      log_level: this.spec.logLevel ?? 'info',
    };
    await writeFile(this.configPath, JSON.stringify(config), { mode: 0o600 });
    // The child writes straight into the log file, so it outlives a parent that exits.
    const logFd = openSync(this.logPath, 'a');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI_ENTRY, 'agent', '-server', '-config', this.configPath],
      { cwd: REPO_ROOT, stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    this.#child = child;
    this.#exit = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  }

  /** Resolves with the exit code and signal once the process has exited. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#exit === null) return Promise.resolve({ code: null, signal: null });
    return this.#exit;
  }

  /** Resolves with the exit if the process exits within `ms`, or with null once `ms` have passed. */
  async exitWithin(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<null>((done) => {
      timer = setTimeout(() => done(null), ms);
    });
    const outcome = await Promise.race([this.exited(), deadline]);
    clearTimeout(timer);
    return outcome;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.#child?.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#child === null) return;
    if (this.running) {
      this.#child.kill('SIGCONT');
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child?.kill('SIGKILL'), graceMs);
      await this.exited();
      clearTimeout(timer);
    }
    this.#child = null;
  }

  async kill(): Promise<void> {
    if (this.#child === null) return;
    this.#child.kill('SIGKILL');
    await this.exited();
    this.#child = null;
  }

  /** Reads the log so far as parsed pino lines; a line that is not JSON comes back as `{ raw }`. */
  async logLines(): Promise<Record<string, unknown>[]> {
    const text = await readFile(this.logPath, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { raw: line };
        }
      });
  }
}

/** A group of agents that share a cluster key and a temporary folder. */
export class FaultCluster {
  readonly root: string;
  readonly key: string;
  readonly agents: AgentProcess[] = [];

  private constructor(root: string, key: string) {
    this.root = root;
    this.key = key;
  }

  static async create(prefix = 'signet-faults-'): Promise<FaultCluster> {
    const root = await mkdtemp(join(tmpdir(), prefix));
    return new FaultCluster(root, generateClusterKey());
  }

  /** Creates (does not start) `count` agents that list each other in retry_join. */
  async define(count: number, overrides: Partial<AgentSpec> = {}): Promise<AgentProcess[]> {
    const ports = await freePorts(count * 2);
    const rpcAddrs = Array.from({ length: count }, (_, i) => `127.0.0.1:${ports[2 * i + 1]}`);
    const created: AgentProcess[] = [];
    for (let i = 0; i < count; i++) {
      const name = `s${this.agents.length + 1}`;
      const dataDir = join(this.root, name, 'data');
      await mkdir(dataDir, { recursive: true });
      const agent = new AgentProcess(
        {
          name,
          httpPort: ports[2 * i] as number,
          rpcPort: ports[2 * i + 1] as number,
          dataDir,
          bootstrapExpect: count,
          encrypt: this.key,
          retryJoin: rpcAddrs,
          ...overrides,
        },
        this.root,
      );
      this.agents.push(agent);
      created.push(agent);
    }
    return created;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.stop()));
  }

  async remove(): Promise<void> {
    await this.stopAll();
    await rm(this.root, { recursive: true, force: true });
  }
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Sends one HTTP request to 127.0.0.1. Rejects on a connection error or after `timeoutMs`. */
export function http(
  address: string,
  method: string,
  path: string,
  body?: string | Buffer,
  timeoutMs = 10_000,
): Promise<HttpResult> {
  const [host, port] = address.split(':');
  return new Promise((done, fail) => {
    const req = request({ host, port: Number(port), method, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          headers: res.headers,
        }),
      );
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((done) => setTimeout(done, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last error: ${String(lastError)}`);
}

/** Waits until every agent reports the same leader, and returns that leader's RPC address. */
export async function waitForLeader(agents: readonly AgentProcess[], timeoutMs = 90_000): Promise<string> {
  return waitUntil(
    'one leader known to every server',
    async () => {
      const leaders = new Set<string>();
      for (const agent of agents) {
        const result = await http(agent.httpAddr, 'GET', '/v1/status/leader', undefined, 3000);
        if (result.status !== 200) return undefined;
        leaders.add(JSON.parse(result.body) as string);
      }
      const [leader] = [...leaders];
      return leaders.size === 1 && leader !== undefined && leader !== '' ? leader : undefined;
    },
    timeoutMs,
  );
}
