import type { ClientHandle } from '../client-handle.js';
import { httpRequest } from '../http-client.js';
import type { Cluster, ServerHandle } from '../launcher.js';
import { done, type Poll, WaitTimeoutError, waitFor } from '../wait.js';
import type { CommandResult, SignetRunner } from './signet-runner.js';

/** Deadline of each wait of the demo in ms: generous, because CI runs it beside other tests on 2 cores. */
export const DEMO_WAIT_MS = 90_000;

/** Raised by a step whose outcome differs from the story; printed as `FAIL: expected X, got Y`. */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';
  readonly expected: string;
  readonly got: string;

  constructor(expected: string, got: string) {
    super(`expected ${expected}, got ${got}`);
    this.expected = expected;
    this.got = got;
  }
}

/** The workload identity of one `redis` task, read from the client's allocation folder. */
export interface TaskIdentity {
  readonly allocId: string;
  /** The allocation's name, such as example.cache[1]. */
  readonly allocName: string;
  /** The JWT. Secret: the demo prints the file's path, never the token. */
  readonly token: string;
  /** `secrets/nomad_token` of the task, which the printed commands read. */
  readonly tokenPath: string;
  /** The `kid` of the JWT header: the root key that signed it. */
  readonly kid: string;
}

export interface CliOptions {
  /** Exit code the step expects. Default 0. */
  readonly expectExit?: number;
  /** Run with this task's identity as NOMAD_TOKEN instead of the management token. */
  readonly identity?: TaskIdentity;
}

/** State that the steps share: the cluster, the CLI, the folder for job and policy files, and what earlier steps saw. */
export class DemoContext {
  readonly cluster: Cluster;
  readonly signet: SignetRunner;
  /** Folder for the files the commands read (job, policy), inside the cluster's folder. */
  readonly workDir: string;
  readonly print: (line: string) => void;
  /** Identities of the `redis` tasks, in the order their allocations were placed. */
  readonly identities: TaskIdentity[] = [];
  /** Server whose address is in NOMAD_ADDR, as in the last printed `export` line. */
  #addressServer: ServerHandle;
  /** Key that signed the first identities, and the one that a rotation made active. */
  firstKeyId = '';
  rotatedKeyId = '';
  /** The leader that the demo killed, and when (performance.now()). */
  killed: { readonly server: ServerHandle; readonly at: number } | null = null;
  /** Key ids in the JWKS before the kill, which the new leader must keep. */
  keyIdsBeforeKill: string[] = [];

  constructor(cluster: Cluster, signet: SignetRunner, workDir: string, print: (line: string) => void) {
    this.cluster = cluster;
    this.signet = signet;
    this.workDir = workDir;
    this.print = print;
    this.#addressServer = cluster.servers()[0]!;
    signet.redact(this.managementToken);
  }

  get client(): ClientHandle {
    return this.cluster.clients()[0]!;
  }

  get managementToken(): string {
    const token = this.cluster.managementToken;
    if (token === null) throw new Error('the demo cluster has no management token: it must run with ACLs');
    return token;
  }

  /** The value of NOMAD_ADDR in the printed commands. */
  get address(): string {
    return `http://${this.#addressServer.httpAddr}`;
  }

  /** Prints the line that sets NOMAD_ADDR and NOMAD_TOKEN, reading the token from its file. */
  printExports(): void {
    this.print(`  $ export NOMAD_ADDR=${this.address} NOMAD_TOKEN=$(cat ${this.cluster.tokenFile})`);
  }

  /** Points NOMAD_ADDR at a live server when its server is down, and prints the new export. */
  followLiveServer(): void {
    if (this.#addressServer.state === 'running') return;
    const live = this.cluster.live()[0];
    if (live === undefined) throw new StepFailure('a live server', 'none');
    this.print(`  (${this.#addressServer.name}, which NOMAD_ADDR names, is down: point it at ${live.name})`);
    this.#addressServer = live;
    this.printExports();
  }

  /** Runs a `signet` command and raises StepFailure unless it exits with the expected code. */
  async cli(args: readonly string[], options: CliOptions = {}): Promise<CommandResult> {
    const identity = options.identity;
    const result = await this.signet.run(args, {
      address: this.address,
      token: identity?.token ?? this.managementToken,
      ...(identity === undefined ? {} : { displayEnv: `NOMAD_TOKEN=$(cat ${identity.tokenPath})` }),
    });
    const expected = options.expectExit ?? 0;
    if (result.code !== expected) {
      const got = result.code === null ? `killed by ${result.signal}` : `exit ${result.code}`;
      throw new StepFailure(`signet ${args[0]} ${args[1] ?? ''} to exit ${expected}`, got);
    }
    return result;
  }

  /** Sends an API request with `token` (default: the management token) and returns the status and the parsed body. */
  async api<T>(
    server: ServerHandle,
    method: string,
    path: string,
    token = this.managementToken,
  ): Promise<{ status: number; body: T | null }> {
    const response = await httpRequest(server.httpAddr, method, path, {
      headers: { 'X-Nomad-Token': token },
      timeoutMs: 5_000,
    });
    const ok = response.status >= 200 && response.status < 300 && response.body !== '';
    return { status: response.status, body: ok ? (JSON.parse(response.body) as T) : null };
  }

  /**
   * Waits for a condition; a timeout becomes StepFailure with `expected` and what the last poll
   * saw. A poll that raises StepFailure ends the wait at once: the outcome is wrong, not late.
   */
  async waitUntil<T>(expected: string, poll: () => Promise<Poll<T>>, timeoutMs = DEMO_WAIT_MS): Promise<T> {
    const outcome: { failure: StepFailure | null } = { failure: null };
    let value: T | undefined;
    try {
      value = await waitFor(expected, { timeoutMs, intervalMs: 200 }, async () => {
        try {
          return await poll();
        } catch (err) {
          if (!(err instanceof StepFailure)) throw err;
          outcome.failure = err;
          return done(undefined);
        }
      });
    } catch (err) {
      if (err instanceof WaitTimeoutError)
        throw new StepFailure(`${expected} within ${timeoutMs} ms`, err.lastStatus);
      throw err;
    }
    if (outcome.failure !== null) throw outcome.failure;
    return value as T;
  }
}
