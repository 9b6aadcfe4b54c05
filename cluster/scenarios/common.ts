import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Command, Option } from 'commander';
import type { LogLevel } from '../../src/server/agent-config.js';
import type { ServerTuning } from '../agent-config-file.js';
import { integerAtLeast, nomadStyleArgv } from '../cli-args.js';
import { Cluster, type ServerHandle } from '../launcher.js';
import { done, pending, waitFor } from '../wait.js';

// ---------------------------------------------------------------------------------------------
// Acknowledged-writes ledger

/** A namespace write that the cluster acknowledged with 200, so it must never be lost. */
export interface AckedWrite {
  readonly name: string;
  readonly description: string;
  /** performance.now() when the request was sent and when the 200 arrived. */
  readonly sentAtMs: number;
  readonly ackedAtMs: number;
  /** Name of the server that the request went to. */
  readonly via: string;
}

/**
 * Every write the writer sent, by outcome. A failed write (error status, network error or
 * timeout) has an unknown outcome: it may or may not have been committed, so it is never counted
 * as lost.
 */
export class WriteLedger {
  readonly #acked: AckedWrite[] = [];
  readonly #failures = new Map<string, number>();
  #failed = 0;

  recordAck(write: AckedWrite): void {
    this.#acked.push(write);
  }

  recordFailure(reason: string): void {
    this.#failed++;
    this.#failures.set(reason, (this.#failures.get(reason) ?? 0) + 1);
  }

  get ackCount(): number {
    return this.#acked.length;
  }

  get failureCount(): number {
    return this.#failed;
  }

  /** Failure counts by reason (`status 500`, `ECONNREFUSED`, `timeout`...). */
  failureReasons(): ReadonlyMap<string, number> {
    return this.#failures;
  }

  /** Returns the writes acknowledged so far, in the order of their acknowledgement. */
  acked(): readonly AckedWrite[] {
    return this.#acked.slice();
  }

  /** Returns the first acknowledged write that was sent at or after `timeMs` (performance.now() time). */
  firstAckSentAfter(timeMs: number): AckedWrite | undefined {
    return this.#acked.find((write) => write.sentAtMs >= timeMs);
  }

  /** Number of acknowledged writes that were sent at or after `timeMs`. */
  acksSentAfter(timeMs: number): number {
    let count = 0;
    for (const write of this.#acked) if (write.sentAtMs >= timeMs) count++;
    return count;
  }

  latenciesMs(): number[] {
    return this.#acked.map((write) => write.ackedAtMs - write.sentAtMs);
  }
}

/** Waits until at least `count` writes sent at or after `sinceMs` are acknowledged, and returns the first of them. */
export async function waitForAcks(
  ledger: WriteLedger,
  count: number,
  sinceMs: number,
  timeoutMs = 30_000,
): Promise<AckedWrite> {
  return waitFor(`${count} acknowledged writes`, { timeoutMs, intervalMs: 10 }, async () => {
    const seen = ledger.acksSentAfter(sinceMs);
    return seen >= count ? done(ledger.firstAckSentAfter(sinceMs)!) : pending(`${seen} acknowledged`);
  });
}

// ---------------------------------------------------------------------------------------------
// Writer

export interface WriterOptions {
  /** Concurrent request loops. */
  readonly workers: number;
  /** Target rate over all workers, in writes per second. */
  readonly ratePerSecond: number;
  /** Start of every namespace name; names must match [a-zA-Z0-9-]. */
  readonly prefix: string;
  readonly requestTimeoutMs: number;
}

/** Pause after a failed write, so that a cluster without a leader is not flooded with requests. */
const FAILURE_BACKOFF_MS = 50;

/**
 * Writes namespaces (`PUT /v1/namespace/NAME`) to randomly picked servers, one new name per
 * write, and records each outcome in a ledger.
 */
export class NamespaceWriter {
  readonly #targets: () => readonly ServerHandle[];
  readonly #ledger: WriteLedger;
  readonly #options: WriterOptions;
  #sequence = 0;
  #stopped = false;
  #loops: Promise<void>[] = [];

  /** `targets` is called before each write; it returns the servers that may receive it. */
  constructor(targets: () => readonly ServerHandle[], ledger: WriteLedger, options: WriterOptions) {
    this.#targets = targets;
    this.#ledger = ledger;
    this.#options = options;
  }

  start(): void {
    if (this.#loops.length > 0) throw new Error('the writer is already running');
    for (let worker = 0; worker < this.#options.workers; worker++) this.#loops.push(this.#loop());
  }

  /** Stops sending and waits for the requests in flight, whose outcomes still go to the ledger. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  async #loop(): Promise<void> {
    const intervalMs = (1000 * this.#options.workers) / this.#options.ratePerSecond;
    while (!this.#stopped) {
      const slotEnd = performance.now() + intervalMs;
      const targets = this.#targets();
      const ok =
        targets.length > 0 && (await this.#writeOnce(targets[Math.floor(Math.random() * targets.length)]!));
      const waitMs = Math.max(slotEnd - performance.now(), ok ? 0 : FAILURE_BACKOFF_MS);
      if (waitMs > 0) await delay(waitMs);
    }
  }

  async #writeOnce(server: ServerHandle): Promise<boolean> {
    const name = `${this.#options.prefix}-${this.#sequence++}`;
    const description = `write ${name} ${randomBytes(6).toString('hex')}`;
    const sentAtMs = performance.now();
    try {
      const response = await server.request('PUT', `/v1/namespace/${name}`, {
        body: { Name: name, Description: description },
        timeoutMs: this.#options.requestTimeoutMs,
      });
      if (response.status === 200) {
        this.#ledger.recordAck({
          name,
          description,
          sentAtMs,
          ackedAtMs: performance.now(),
          via: server.name,
        });
        return true;
      }
      this.#ledger.recordFailure(`status ${response.status}`);
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      this.#ledger.recordFailure(error.name === 'AbortError' ? 'timeout' : (error.code ?? error.message));
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Checking that acknowledged writes are present

interface NamespaceListItem {
  readonly Name: string;
  readonly Description: string;
}

/**
 * Returns the names of the writes in `writes` that `server` does not have, or has with another
 * description. Reads with `?stale=true`, so the result reflects the server's own copy of the state.
 */
export async function missingWrites(server: ServerHandle, writes: readonly AckedWrite[]): Promise<string[]> {
  const response = await server.request('GET', '/v1/namespaces?stale=true', { timeoutMs: 10_000 });
  if (response.status !== 200)
    throw new Error(`GET /v1/namespaces on ${server.name} returned ${response.status}`);
  const present = new Map(
    (JSON.parse(response.body) as NamespaceListItem[]).map((ns) => [ns.Name, ns.Description]),
  );
  return writes.filter((write) => present.get(write.name) !== write.description).map((write) => write.name);
}

/** Waits until `server` has every write in `writes`. Raises WaitTimeoutError naming a few missing ones. */
export async function waitForWritesOn(
  server: ServerHandle,
  writes: readonly AckedWrite[],
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    `${server.name} to have ${writes.length} acknowledged writes`,
    { timeoutMs, intervalMs: 100 },
    async () => {
      const missing = await missingWrites(server, writes);
      return missing.length === 0
        ? done(undefined)
        : pending(`${missing.length} missing, such as ${missing.slice(0, 5).join(', ')}`);
    },
  );
}

/**
 * Waits, up to `timeoutMs`, until every server in `servers` has every write in `writes`, and
 * returns the names still missing on each server (an empty list for a server that has them all).
 * A server that cannot be read counts every write as missing.
 */
export async function collectLostWrites(
  servers: readonly ServerHandle[],
  writes: readonly AckedWrite[],
  timeoutMs = 30_000,
): Promise<Map<string, string[]>> {
  const lost = new Map<string, string[]>();
  await Promise.all(
    servers.map(async (server) => {
      try {
        await waitForWritesOn(server, writes, timeoutMs);
        lost.set(server.name, []);
      } catch {
        lost.set(
          server.name,
          await missingWrites(server, writes).catch(() => writes.map((write) => write.name)),
        );
      }
    }),
  );
  return lost;
}

// ---------------------------------------------------------------------------------------------
// Statistics

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly max: number;
  readonly mean: number;
}

/** Summarises a sample; percentiles are nearest-rank. Raises on an empty sample. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error('cannot summarise an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    min: sorted[0]!,
    median:
      sorted.length % 2 === 1 ? rank(0.5) : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2,
    p90: rank(0.9),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

/** `label: median 812 ms, p90 1203 ms, worst 1450 ms (min 640, mean 850, n=20)` */
export function formatSummary(label: string, values: readonly number[]): string {
  if (values.length === 0) return `${label}: no samples`;
  const s = summarize(values);
  const ms = (value: number) => Math.round(value);
  return `${label}: median ${ms(s.median)} ms, p90 ${ms(s.p90)} ms, worst ${ms(s.max)} ms (min ${ms(s.min)}, mean ${ms(s.mean)}, n=${s.count})`;
}

// ---------------------------------------------------------------------------------------------
// Scenario harness: flags, cluster, checks, exit code

export interface ScenarioFlags {
  readonly servers: number;
  readonly trials: number;
  readonly data?: string;
  readonly dist?: boolean;
  readonly workers: number;
  readonly rate: number;
  readonly logLevel: LogLevel;
  readonly snapshotThreshold?: number;
}

/**
 * Parses a scenario's command line (single- or double-dash flags). `extra` adds the scenario's
 * own flags; their values come back in the same object.
 */
export function parseScenarioFlags<Extra extends object = Record<never, never>>(
  name: string,
  description: string,
  defaultTrials: number,
  extra: (program: Command) => void = () => {},
): ScenarioFlags & Extra {
  const program = new Command(`cluster/scenarios/${name}.ts`)
    .description(description)
    .option('--servers <n>', 'founding servers', integerAtLeast(1), 3)
    .option('--trials <n>', 'number of trials', integerAtLeast(1), defaultTrials)
    .option(
      '--data <dir>',
      'folder for the servers, kept afterwards. Default: a temporary folder, kept only on failure',
    )
    .option('--dist', 'run the compiled agent in dist/ (npm run build) instead of the sources through tsx')
    .option('--workers <n>', 'concurrent writers', integerAtLeast(1), 4)
    .option('--rate <n>', 'target namespace writes per second over all writers', integerAtLeast(1), 50)
    .option(
      '--snapshot-threshold <n>',
      'server.raft_snapshot_threshold of every server (default: the agent default)',
      integerAtLeast(1),
    )
    .addOption(
      new Option('--log-level <level>', 'agent log level')
        .choices(['trace', 'debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .addHelpText('after', '\nFlags take one dash or two: -trials 20 and --trials 20 are the same.');
  extra(program);
  program.parse(nomadStyleArgv(process.argv));
  return program.opts<ScenarioFlags & Extra>();
}

export interface ScenarioContext {
  readonly cluster: Cluster;
  readonly ledger: WriteLedger;
  readonly writer: NamespaceWriter;
  /** Prints a line with the seconds since the scenario began. */
  log(line: string): void;
  /** Records a check; a false condition fails the scenario (exit status 1) but lets it continue. */
  check(condition: boolean, message: string): void;
}

/**
 * Runs a scenario. It starts the cluster and a writer aimed at the live members, waits for a
 * leader and runs `body`. Then it stops the writer and checks that every acknowledged write is on
 * every member. It exits with status 0 when every check passed and 1 otherwise, and on failure it
 * keeps the server folders and prints where they are.
 */
export async function runScenario(
  name: string,
  flags: ScenarioFlags,
  body: (context: ScenarioContext) => Promise<void>,
): Promise<never> {
  const began = performance.now();
  const log = (line: string) => {
    process.stdout.write(`[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s] ${line}\n`);
  };
  const failures: string[] = [];
  const check = (condition: boolean, message: string) => {
    if (condition) return;
    failures.push(message);
    log(`CHECK FAILED: ${message}`);
  };
  const tuning: ServerTuning =
    flags.snapshotThreshold === undefined ? {} : { raft_snapshot_threshold: flags.snapshotThreshold };

  log(`${name}: starting ${flags.servers} servers (${flags.dist === true ? 'dist' : 'source'})`);
  const cluster = await Cluster.start({
    servers: flags.servers,
    dataRoot: flags.data,
    entry: flags.dist === true ? 'dist' : 'source',
    logLevel: flags.logLevel,
    tuning,
    onUnexpectedExit(server, exit) {
      check(
        false,
        `${server.name} exited by itself (code ${exit.code}, signal ${exit.signal}); log ${server.logPath}`,
      );
    },
  });
  const ledger = new WriteLedger();
  const writer = new NamespaceWriter(() => cluster.live(), ledger, {
    workers: flags.workers,
    ratePerSecond: flags.rate,
    prefix: `${name}-${randomBytes(3).toString('hex')}`,
    requestTimeoutMs: 5_000,
  });

  try {
    const leader = await cluster.waitForLeader(60_000);
    log(
      `servers: ${cluster
        .servers()
        .map((s) => `${s.name} http=${s.httpAddr} rpc=${s.rpcAddr}`)
        .join('; ')}`,
    );
    log(`leader: ${leader.name}`);
    writer.start();
    await body({ cluster, ledger, writer, log, check });
    await writer.stop();
    await checkNoWriteLost({ cluster, ledger, writer, log, check });
  } catch (err) {
    failures.push((err as Error).message);
    log(`ERROR: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await writer.stop();
  }

  const passed = failures.length === 0;
  await cluster.stop({ keepData: !passed });
  if (passed) {
    log(`${name}: PASS`);
  } else {
    log(`${name}: FAIL, ${failures.length} check(s) failed:`);
    for (const failure of failures) process.stdout.write(`  - ${failure}\n`);
    process.stdout.write(`server folders and logs kept in ${cluster.root}\n`);
  }
  process.exit(passed ? 0 : 1);
}

/** Final check of every scenario: each acknowledged write is on each live member. */
async function checkNoWriteLost(context: ScenarioContext): Promise<void> {
  const { cluster, ledger, log, check } = context;
  const down = cluster.servers().filter((server) => server.state !== 'running');
  check(
    down.length === 0,
    `servers not running at the end: ${down.map((s) => `${s.name} (${s.state})`).join(', ')}`,
  );
  const writes = ledger.acked();
  const lost = await collectLostWrites(cluster.live(), writes);
  const lostNames = new Set([...lost.values()].flat());
  const reasons = [...ledger.failureReasons()].map(([reason, count]) => `${reason}: ${count}`).join(', ');
  log(
    `writes acknowledged: ${ledger.ackCount}, failed (outcome unknown): ${ledger.failureCount}${reasons ? ` (${reasons})` : ''}`,
  );
  log(formatSummary('write latency', ledger.latenciesMs()));
  log(`writes lost: ${lostNames.size} (checked on ${[...lost.keys()].sort().join(', ')})`);
  for (const [server, names] of lost) {
    check(
      names.length === 0,
      `${server} lacks ${names.length} acknowledged writes, such as ${names.slice(0, 5).join(', ')}`,
    );
  }
}

/** Picks a random element; raises on an empty list. */
export function pickRandom<T>(items: readonly T[]): T {
  if (items.length === 0) throw new Error('cannot pick from an empty list');
  return items[Math.floor(Math.random() * items.length)]!;
}
