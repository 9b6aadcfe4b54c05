import { access, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateClusterKey } from '../src/rpc/cluster-key.js';
import type { LogLevel } from '../src/server/agent-config.js';
import type { RaftServer } from '../src/server/backend.js';
import { ensureManagementToken, TOKEN_FILE } from './acl-bootstrap.js';
import type { ServerConfigSpec, ServerTuning } from './agent-config-file.js';
import { type AgentEntry, checkEntry, findRepoRoot } from './agent-entry.js';
import { ClientFleet } from './client-fleet.js';
import type { ClientHandle } from './client-handle.js';
import { FolderLock } from './folder-lock.js';
import { freePorts, portFree } from './free-port.js';
import { requestJson } from './http-client.js';
import { REMOVED_MARKER, readKeptServers, SERVER_FOLDER } from './kept-servers.js';
import { listenerPids } from './port-owner.js';
import { AgentStartError, type ExitInfo, ServerHandle } from './server-handle.js';
import { done, pending, waitFor } from './wait.js';

export { TOKEN_FILE } from './acl-bootstrap.js';
export type { AgentEntry } from './agent-entry.js';
export { ClientHandle } from './client-handle.js';
export { FolderBusyError, LOCK_FILE } from './folder-lock.js';
export { AgentStartError, type ExitInfo, ServerHandle } from './server-handle.js';

export interface ClusterOptions {
  /** Number of founding servers; each is started with bootstrap_expect set to this number. */
  readonly servers: number;
  /**
   * Number of client agents, each with raw_exec enabled and every server's RPC address in its
   * `client.servers`, in `<root>/client-N/`. start() waits until their nodes are ready. Default 0.
   */
  readonly clients?: number;
  /**
   * Folder for the servers' folders. When given it is kept after stop(), and a folder that contains
   * a cluster from an earlier run is started again with its key, ports and data. Default: a new
   * temporary folder, removed by stop().
   */
  readonly dataRoot?: string | undefined;
  /** Address every server binds. Default 127.0.0.1. */
  readonly host?: string;
  /**
   * Runs server `name` elsewhere than beside the launcher, such as in a network namespace: it binds
   * the placement's host in place of `host`, and its command starts with the placement's prefix.
   * Free ports are still drawn on `host` of this machine, which suits a fresh namespace, where
   * every port is free.
   */
  readonly placeServer?: (name: string) => ServerPlacement;
  /**
   * Fixed ports: server N listens on HTTP basePort + 10·(N−1) and RPC one above that. Default:
   * free ports from the OS.
   */
  readonly basePort?: number | undefined;
  /** Default 'source' (tsx); 'dist' runs dist/src/cli/main.js, which `npm run build` writes. */
  readonly entry?: AgentEntry;
  /** Agent log_level. Default 'info'. */
  readonly logLevel?: LogLevel;
  /** Extra fields for every server's `server` block, such as raft_snapshot_threshold. */
  readonly tuning?: ServerTuning;
  /**
   * Start every server with `acl { enabled = true }` and bootstrap the ACLs: start() returns once
   * `managementToken` works, and the launcher's own requests send it. Default false. A kept
   * cluster whose servers have ACLs on is bootstrapped even without this option.
   */
  readonly acl?: boolean;
  /**
   * Deadline for one agent's HTTP API to respond after its start, and for the ACL bootstrap and
   * the clients' nodes to be ready, in ms. Default 60 000.
   */
  readonly startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping a server, in ms. Default 10 000. */
  readonly stopTimeoutMs?: number;
  /**
   * Stop every server when this process gets SIGINT, SIGTERM or SIGHUP (a closed terminal), then
   * let the signal end the process unless someone else handles it. Default true.
   */
  readonly handleSignals?: boolean;
  /**
   * Called when a running server or client exits without the launcher having signalled it (a
   * crash). A server that exits while it starts makes the start raise AgentStartError instead.
   */
  readonly onUnexpectedExit?: (agent: ServerHandle | ClientHandle, exit: ExitInfo) => void;
}

/** Placement of one server, as ClusterOptions.placeServer returns it. */
export interface ServerPlacement {
  /** Address the server binds; the launcher and the clients must reach it from here. */
  readonly host: string;
  /**
   * Program and arguments put before the agent's command, such as `ip netns exec NAME`. It must
   * exec the agent rather than fork it, so that the signals the launcher sends reach the agent.
   */
  readonly commandPrefix: readonly string[];
}

export interface AddServerOptions {
  /**
   * Cluster key for the new server. A server with another key than the cluster's cannot join, so
   * it is not counted as a member: servers() and waitForLeader() leave it out, stop() stops it.
   */
  readonly clusterKey?: string;
}

export interface RejoinOptions {
  /** Called after the checks, just before the data folder is emptied. */
  readonly beforeEmpty?: () => Promise<void>;
}

export interface RaftConfiguration {
  readonly Index: number;
  readonly Servers: readonly RaftServer[];
}

/** Signals that stop the cluster: Ctrl-C, a plain kill, and a closed terminal or SSH session. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Highest TCP port; server N's RPC port, basePort + 10·(N−1) + 1, must not pass it. */
const MAX_PORT = 65_535;

/** Attempts at starting new servers when a port turns out to be taken; each attempt draws new ports. */
const PORT_CLASH_ATTEMPTS = 3;

/**
 * A local cluster of server agents, each a separate process on 127.0.0.1 with its own ports,
 * data folder, config file and log (`<root>/sN/{data,config.json,agent.log}`), and of client
 * agents (`<root>/client-N/{data,client.json,agent.log}`).
 */
export class Cluster {
  readonly root: string;
  /** Cluster key (`server.encrypt`) in base64. Secret: do not print it. */
  readonly clusterKey: string;
  /** True when the servers were started again from an earlier run kept in `dataRoot`. */
  readonly reused: boolean;
  readonly #options: ClusterOptions;
  readonly #keepRoot: boolean;
  readonly #repoRoot: string;
  readonly #bootstrapExpect: number;
  #members: ServerHandle[] = [];
  readonly #clientFleet: ClientFleet;
  #managementToken: string | null = null;
  /** Removed servers and servers with another key: stopped by stop(), never counted as members. */
  #others: ServerHandle[] = [];
  #stopping: Promise<void> | null = null;
  /** Aborted by stop(), so that the waits of a start in progress end at once. */
  readonly #startAbort = new AbortController();
  #lock: FolderLock | null = null;
  readonly #signalHandler = (signal: NodeJS.Signals) => this.#onSignal(signal);
  /**
   * Passes a crash on to the caller. Once stop() has begun, an agent that exits before its turn
   * is not reported: Ctrl-C in a terminal signals every agent of the process group at once.
   */
  readonly #reportExit = (agent: ServerHandle | ClientHandle, exit: ExitInfo): void => {
    if (this.#stopping === null) this.#options.onUnexpectedExit?.(agent, exit);
  };

  private constructor(
    options: ClusterOptions,
    root: string,
    clusterKey: string,
    bootstrapExpect: number,
    reused: boolean,
  ) {
    this.#options = options;
    this.root = root;
    this.clusterKey = clusterKey;
    this.#bootstrapExpect = bootstrapExpect;
    this.reused = reused;
    this.#keepRoot = options.dataRoot !== undefined;
    this.#repoRoot = findRepoRoot();
    this.#clientFleet = new ClientFleet(root, {
      entry: options.entry ?? 'source',
      logLevel: options.logLevel ?? 'info',
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      startTimeoutMs: this.#startTimeoutMs(),
      onUnexpectedExit: this.#reportExit,
    });
  }

  /**
   * Starts the servers and waits until each one's HTTP API responds. Without ACLs or clients it
   * does not wait for a leader. With ACLs it bootstraps them (which needs a leader); with clients
   * it waits until their nodes are ready.
   */
  static async start(options: ClusterOptions): Promise<Cluster> {
    if (!Number.isInteger(options.servers) || options.servers < 1) {
      throw new Error(`invalid servers=${options.servers}: expected a whole number of servers, at least 1`);
    }
    const clients = options.clients ?? 0;
    if (!Number.isInteger(clients) || clients < 0) {
      throw new Error(`invalid clients=${clients}: expected a whole number of clients, at least 0`);
    }
    checkEntry(options.entry, findRepoRoot());
    checkBasePort(options.basePort, options.servers);
    if (options.dataRoot !== undefined) await checkFolder(resolve(options.dataRoot));
    const root =
      options.dataRoot === undefined
        ? await mkdtemp(join(tmpdir(), 'signet-cluster-'))
        : resolve(options.dataRoot);
    try {
      await mkdir(root, { recursive: true });
    } catch (err) {
      throw new Error(`cannot create the folder ${root}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    let lock: FolderLock;
    let earlier: ServerConfigSpec[];
    try {
      // Before anything else reads or writes the folder: a second launcher on it would start a
      // second client agent with the same node identity, and every task would run twice.
      lock = await FolderLock.acquire(root);
    } catch (err) {
      if (options.dataRoot === undefined) await rm(root, { recursive: true, force: true });
      throw err;
    }
    try {
      earlier = await readKeptServers(root);
    } catch (err) {
      await lock.release();
      if (options.dataRoot === undefined) await rm(root, { recursive: true, force: true });
      throw err;
    }

    const cluster =
      earlier.length > 0
        ? new Cluster(options, root, earlier[0]!.encrypt, earlier[0]!.bootstrapExpect, true)
        : new Cluster(options, root, generateClusterKey(), options.servers, false);
    cluster.#lock = lock;
    if (options.handleSignals ?? true) {
      for (const signal of STOP_SIGNALS) process.on(signal, cluster.#signalHandler);
    }
    try {
      if (earlier.length > 0) await cluster.#startKept(earlier);
      else await cluster.#startFounders(options.servers);
      await cluster.#clientFleet.start(
        clients,
        cluster.#members.map((server) => server.rpcAddr),
      );
      if (cluster.#members.some((server) => server.spec.aclEnabled)) {
        cluster.#managementToken = await ensureManagementToken(
          root,
          () => cluster.#waitForLeaderWhileStarting(),
          cluster.#startTimeoutMs(),
          cluster.#startAbort.signal,
        );
      }
      await cluster.#clientFleet.waitForNodes(cluster);
    } catch (err) {
      // The folder stays when an agent wrote a log, which the error may name. A start that failed
      // before any agent ran (a taken fixed port) leaves nothing to read in a temporary folder.
      const keep = cluster.#keepRoot || (await cluster.#anyAgentLog());
      await cluster.stop({ keepData: keep });
      if (keep && err instanceof Error) err.message += `\n(server folders kept in ${root})`;
      throw err;
    }
    return cluster;
  }

  /** Members of the cluster started by the launcher, running or not, in start order. */
  servers(): readonly ServerHandle[] {
    return this.#members;
  }

  /** Client agents started by the launcher, in start order. */
  clients(): readonly ClientHandle[] {
    return this.#clientFleet.clients;
  }

  /**
   * Secret of the management token when the servers have ACLs on, else null. It is also in
   * `<root>/bootstrap-token` (0600). Secret: print it only where the user asked for it.
   */
  get managementToken(): string | null {
    return this.#managementToken;
  }

  /** Path of the file with the management token's secret; it exists only when ACLs are on. */
  get tokenFile(): string {
    return join(this.root, TOKEN_FILE);
  }

  /** Request headers that carry the management token, or none without ACLs. */
  authHeaders(): Record<string, string> {
    return this.#managementToken === null ? {} : { 'X-Nomad-Token': this.#managementToken };
  }

  /** Members whose process runs, responds to HTTP and is not paused. */
  live(): ServerHandle[] {
    return this.#members.filter((server) => server.state === 'running');
  }

  server(name: string): ServerHandle {
    const found = this.#members.find((server) => server.name === name);
    if (found === undefined) throw new Error(`no server named ${name}; members: ${this.#names()}`);
    return found;
  }

  /**
   * Polls GET /v1/status/leader on every live member until all of them return the same
   * non-empty address and that address belongs to a live member, and returns that member. Raises
   * at once when `signal` aborts.
   */
  async waitForLeader(timeoutMs = 30_000, intervalMs = 50, signal?: AbortSignal): Promise<ServerHandle> {
    const options = { timeoutMs, intervalMs, signal };
    return waitFor(`one leader agreed by ${this.#names()}`, options, async () => {
      const live = this.live();
      if (live.length === 0) return pending('no live server');
      const answers = await Promise.all(
        live.map(async (server) => {
          try {
            return await requestJson<string>(server.httpAddr, 'GET', '/v1/status/leader', {
              timeoutMs: 1_000,
            });
          } catch (err) {
            return `error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
          }
        }),
      );
      const status = live.map((server, i) => `${server.name}=${JSON.stringify(answers[i])}`).join(' ');
      const address = answers[0];
      if (address === '' || !answers.every((answer) => answer === address)) return pending(status);
      const leader = live.find((server) => server.rpcAddr === address);
      return leader === undefined ? pending(`${status} (not a live member)`) : done(leader);
    });
  }

  /** Returns the current leader, waiting for one as waitForLeader does. */
  leader(): Promise<ServerHandle> {
    return this.waitForLeader();
  }

  /** GET /v1/operator/raft/configuration through `via` (default: the first live member). */
  async raftConfiguration(via?: ServerHandle): Promise<RaftConfiguration> {
    const server = via ?? this.live()[0];
    if (server === undefined) throw new Error('cannot read the Raft configuration: no live server');
    return requestJson<RaftConfiguration>(server.httpAddr, 'GET', '/v1/operator/raft/configuration', {
      timeoutMs: 5_000,
      headers: this.authHeaders(),
    });
  }

  /** Returns the Raft id (a decimal string) of `server`, from the Raft configuration. */
  async raftId(server: ServerHandle, via?: ServerHandle): Promise<string> {
    const { Servers } = await this.raftConfiguration(via);
    const entry =
      Servers.find((s) => s.Address === server.rpcAddr) ?? Servers.find((s) => s.Node === server.name);
    if (entry === undefined) {
      throw new Error(
        `${server.name} (${server.rpcAddr}) is not in the Raft configuration: ${JSON.stringify(Servers)}`,
      );
    }
    return entry.ID;
  }

  /** Waits until the Raft configuration, as the leader reports it, lists `server` as a voter. */
  async waitForVoter(server: ServerHandle, timeoutMs = 30_000): Promise<void> {
    await waitFor(`${server.name} to become a voter`, { timeoutMs, intervalMs: 100 }, async () => {
      const leader = await this.waitForLeader(5_000);
      const { Servers } = await this.raftConfiguration(leader);
      const entry = Servers.find((s) => s.Address === server.rpcAddr);
      if (entry?.Voter === true) return done(undefined);
      return pending(JSON.stringify(Servers));
    });
  }

  /**
   * Starts a new server with an empty data folder that joins through retry_join (every member's
   * RPC address). bootstrap_expect stays at the founders' value, so the new server never
   * bootstraps a cluster of its own. Returns once its HTTP API responds.
   */
  async addServer(options: AddServerOptions = {}): Promise<ServerHandle> {
    const number = this.#nextServerNumber();
    const clusterKey = options.clusterKey ?? this.clusterKey;
    const member = clusterKey === this.clusterKey;
    const joinList = this.#members.map((server) => server.rpcAddr);
    const server = this.#createHandle(await this.#specFor(number, clusterKey, joinList));
    // Track it before the start, so that stop() ends it even when the start fails half-way.
    if (member) this.#members.push(server);
    else this.#others.push(server);
    await this.#startWithFreshPorts([server], () => joinList);
    return server;
  }

  /**
   * Removes `server` from the Raft configuration (DELETE /v1/operator/raft/peer?id=), waits until
   * the leader no longer lists it, then stops its process. Its folder stays until stop().
   */
  async removeServer(server: ServerHandle, timeoutMs = 30_000): Promise<void> {
    if (!this.#members.includes(server)) throw new Error(`${server.name} is not a member of this cluster`);
    const leader = await this.waitForLeader(timeoutMs);
    const via = leader !== server ? leader : this.live().find((other) => other !== server);
    if (via === undefined) throw new Error(`cannot remove ${server.name}: it is the only live server`);
    const id = await this.raftId(server, via);
    await requestJson(via.httpAddr, 'DELETE', `/v1/operator/raft/peer?id=${encodeURIComponent(id)}`, {
      headers: this.authHeaders(),
    });

    await waitFor(
      `${server.name} (id ${id}) to leave the Raft configuration`,
      { timeoutMs, intervalMs: 100 },
      async () => {
        const others = this.live().filter((other) => other !== server);
        const { Servers } = await this.raftConfiguration(others[0]);
        return Servers.some((s) => s.ID === id) ? pending(JSON.stringify(Servers)) : done(undefined);
      },
    );
    this.#members = this.#members.filter((other) => other !== server);
    this.#others.push(server);
    await writeFile(join(server.dir, REMOVED_MARKER), `removed from the cluster as Raft id ${id}\n`);
    await server.stop();
  }

  /**
   * Starts `server`, a stopped member whose Raft id the cluster removed, on its name, address,
   * ports and placement again, but with an empty data folder. It draws a new Raft id and joins as a
   * new member through retry_join, because the cluster never admits a removed id again.
   * bootstrap_expect stays at the founders' value while every other member has a log, so it never
   * founds a cluster of its own. Returns once its HTTP API responds. The leader adds it as a
   * learner and promotes it later (waitForVoter).
   */
  async rejoinServer(server: ServerHandle, options: RejoinOptions = {}): Promise<void> {
    if (!this.#members.includes(server)) throw new Error(`${server.name} is not a member of this cluster`);
    if (server.state !== 'stopped') {
      throw new Error(`cannot rejoin ${server.name}: it is ${server.state}; stop it after its removal first`);
    }
    if (server.spec.bootstrapExpect < 2) {
      // With bootstrap_expect 1 an empty server founds a cluster alone before it finds the others.
      throw new Error(
        `cannot rejoin ${server.name} with an empty data folder: bootstrap_expect is ${server.spec.bootstrapExpect}, so it would found a cluster of its own`,
      );
    }
    if (!(await fileExists(join(server.dir, REMOVED_MARKER)))) {
      // A voter that rejoined empty would add a second id at its address and leave its old id as a
      // dead voter in the configuration.
      throw new Error(
        `cannot rejoin ${server.name}: its folder has no ${REMOVED_MARKER} marker, so it may still be a voter; remove it from the Raft configuration first`,
      );
    }
    await options.beforeEmpty?.();
    await rm(server.dataDir, { recursive: true, force: true });
    await rm(join(server.dir, REMOVED_MARKER), { force: true });
    await server.restart();
  }

  /**
   * Stops every process the launcher started and removes the temporary root, unless a dataRoot was
   * given or `keepData` is set. Clients go first (SIGTERM), then their tasks' process groups
   * (SIGKILL), which outlive a client agent, then the servers (SIGTERM, then SIGKILL after the
   * stop timeout). Raises, after stopping the servers and keeping the root, when a task still
   * runs. Safe to call twice.
   */
  stop(options: { keepData?: boolean } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      for (const signal of STOP_SIGNALS) process.off(signal, this.#signalHandler);
      this.#startAbort.abort(new Error('the cluster is stopping'));
      for (const server of [...this.#members, ...this.#others]) server.retire();
      const failures = await this.#clientFleet.stop();
      await Promise.all([...this.#members, ...this.#others].map((server) => server.stop()));
      if (failures.length > 0) {
        // The lock stays until this process exits, so no other launcher starts beside the task.
        throw new AggregateError(failures, `cannot stop every task; folders kept in ${this.root}`);
      }
      await this.#lock?.release();
      if (!this.#keepRoot && options.keepData !== true) await rm(this.root, { recursive: true, force: true });
    })();
    return this.#stopping;
  }

  #onSignal(signal: NodeJS.Signals): void {
    void this.stop()
      .catch((err: unknown) => {
        process.stderr.write(`cluster stop after ${signal} failed: ${(err as Error).message}\n`);
      })
      .finally(() => {
        // With no other handler left, the signal's default action ends this process as it would have.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
  }

  /** waitForLeader for the start, which ends at once when stop() begins. */
  #waitForLeaderWhileStarting(): Promise<ServerHandle> {
    return this.waitForLeader(this.#startTimeoutMs(), 50, this.#startAbort.signal);
  }

  /** True when no server or client of the launcher has a process any more. */
  allAgentsExited(): boolean {
    return (
      [...this.#members, ...this.#others].every((server) => server.state === 'stopped') &&
      this.#clientFleet.clients.every((client) => !client.running)
    );
  }

  async #startFounders(count: number): Promise<void> {
    const joinList = (servers: readonly ServerHandle[]) => servers.map((server) => server.rpcAddr);
    for (let number = 1; number <= count; number++) {
      this.#members.push(this.#createHandle(await this.#specFor(number, this.clusterKey, [])));
    }
    await this.#startWithFreshPorts(this.#members, () => joinList(this.#members));
  }

  async #startKept(specs: readonly ServerConfigSpec[]): Promise<void> {
    // An agent of this folder that outlived a SIGKILLed launcher still has its ports and data open.
    // Starting beside it would fail on the ports, and a second client would run every task twice.
    for (const spec of specs) {
      for (const port of [spec.httpPort, spec.rpcPort]) {
        if (await portFree(port, spec.host)) continue;
        const pids = listenerPids(port);
        const owner = pids === null || pids.length === 0 ? 'another program' : `pid ${pids.join(', ')}`;
        throw new Error(
          `port ${spec.host}:${port} of ${spec.name} in ${this.root} is taken by ${owner}; an agent of this folder may still run after its launcher was killed: stop it first`,
        );
      }
    }
    for (const spec of specs) {
      // -acl turns the ACLs on for a kept cluster that ran without them; it never turns them off.
      const aclEnabled = spec.aclEnabled || this.#options.acl === true;
      const server = this.#createHandle({ ...spec, aclEnabled });
      if (aclEnabled !== spec.aclEnabled) await server.configure(server.spec);
      this.#members.push(server);
    }
    await Promise.all(this.#members.map((server) => server.start()));
  }

  async #anyAgentLog(): Promise<boolean> {
    const agents = [...this.#members, ...this.#others, ...this.#clientFleet.clients];
    const found = await Promise.all(agents.map((agent) => fileExists(agent.logPath)));
    return found.includes(true);
  }

  /** The `npm run cluster` command that starts a cluster of this shape on free ports. */
  #freePortsCommand(): string {
    const clients = this.#options.clients ?? 0;
    const flags = [`-servers ${this.#options.servers}`];
    if (clients > 0) flags.push(`-clients ${clients}`);
    if (this.#options.acl === true) flags.push('-acl');
    return `npm run cluster -- ${flags.join(' ')}`;
  }

  #startTimeoutMs(): number {
    return this.#options.startTimeoutMs ?? 60_000;
  }

  /**
   * Gives `servers` ports, writes their configs (retry_join from `joinList` plus each server's own
   * address) and starts them together. When a port turns out to be taken, it stops all of them,
   * wipes their data and starts them again on new ports. With fixed ports, a taken port is an error.
   */
  async #startWithFreshPorts(servers: readonly ServerHandle[], joinList: () => string[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      await this.#assignPorts(servers);
      const join = [...new Set([...joinList(), ...servers.map((server) => server.rpcAddr)])];
      for (const server of servers) await server.configure({ ...server.spec, retryJoin: join });

      const results = await Promise.allSettled(servers.map((server) => server.start()));
      const failures = results.flatMap((result) =>
        result.status === 'rejected' ? [result.reason as unknown] : [],
      );
      if (failures.length === 0) return;
      const portClash = failures.every((err) => err instanceof AgentStartError && err.code === 'EADDRINUSE');
      if (!portClash || this.#options.basePort !== undefined || attempt >= PORT_CLASH_ATTEMPTS)
        throw failures[0];

      // The agent binds its HTTP port before it joins, so a server that failed on a taken port
      // never introduced itself. Retrying it with new ports and a new id leaves nothing behind.
      await Promise.all(servers.map((server) => server.stop()));
      await Promise.all(servers.map((server) => rm(server.dataDir, { recursive: true, force: true })));
    }
  }

  async #assignPorts(servers: readonly ServerHandle[]): Promise<void> {
    const base = this.#options.basePort;
    const ports = base === undefined ? await freePorts(servers.length * 2, this.#host()) : [];
    for (const [i, server] of servers.entries()) {
      const number = Number(SERVER_FOLDER.exec(server.name)?.[1] ?? i + 1);
      const httpPort = base === undefined ? ports[2 * i]! : base + 10 * (number - 1);
      const rpcPort = base === undefined ? ports[2 * i + 1]! : httpPort + 1;
      // A fixed port may already serve another Signet cluster, whose replies would look like this
      // server starting. Stop here rather than join someone else's cluster by mistake.
      if (base !== undefined) {
        for (const port of [httpPort, rpcPort]) {
          if (!(await portFree(port, this.#host()))) {
            throw new Error(
              `port ${this.#host()}:${port} for ${server.name} is taken by another program; stop it, or start the cluster on free ports with ${this.#freePortsCommand()}`,
            );
          }
        }
      }
      await server.configure({ ...server.spec, httpPort, rpcPort });
    }
  }

  async #specFor(number: number, encrypt: string, retryJoin: readonly string[]): Promise<ServerConfigSpec> {
    const dir = join(this.root, `s${number}`);
    await mkdir(dir, { recursive: true });
    return {
      name: `s${number}`,
      dataDir: join(dir, 'data'),
      host: this.#options.placeServer?.(`s${number}`).host ?? this.#host(),
      // Real ports are assigned just before the start.
      httpPort: 0,
      rpcPort: 0,
      bootstrapExpect: this.#bootstrapExpect,
      encrypt,
      retryJoin,
      logLevel: this.#options.logLevel ?? 'info',
      tuning: this.#options.tuning ?? {},
      aclEnabled: this.#options.acl ?? false,
    };
  }

  #createHandle(spec: ServerConfigSpec): ServerHandle {
    return new ServerHandle({
      dir: dirname(spec.dataDir),
      spec,
      entry: this.#options.entry ?? 'source',
      repoRoot: this.#repoRoot,
      startTimeoutMs: this.#options.startTimeoutMs ?? 60_000,
      stopTimeoutMs: this.#options.stopTimeoutMs ?? 10_000,
      onUnexpectedExit: this.#reportExit,
      commandPrefix: this.#options.placeServer?.(spec.name).commandPrefix ?? [],
    });
  }

  #nextServerNumber(): number {
    const used = [...this.#members, ...this.#others].map((server) =>
      Number(SERVER_FOLDER.exec(server.name)?.[1] ?? 0),
    );
    return Math.max(0, ...used) + 1;
  }

  #host(): string {
    return this.#options.host ?? '127.0.0.1';
  }

  #names(): string {
    return this.#members.map((server) => server.name).join(', ');
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Raises when a fixed base port would give some server a port above MAX_PORT. */
function checkBasePort(basePort: number | undefined, servers: number): void {
  if (basePort === undefined) return;
  const highest = basePort + 10 * (servers - 1) + 1;
  if (!Number.isInteger(basePort) || basePort < 1 || highest > MAX_PORT) {
    throw new Error(
      `invalid HTTP port ${basePort}: with ${servers} server${servers === 1 ? '' : 's'} the ports run from ${basePort} to ${highest}, and they must lie in 1-${MAX_PORT}`,
    );
  }
}

/** Raises when `path` exists and is not a folder. */
async function checkFolder(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isDirectory()) throw new Error(`${path} is not a folder`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw err instanceof Error && !('code' in err)
        ? err
        : new Error(`cannot use ${path}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
}
