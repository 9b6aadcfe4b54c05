import { randomInt, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { keyEncryptionKey } from '../keyring/index.js';
import { RAFT_DEFAULTS } from '../raft/config.js';
import { RaftDriver } from '../raft/driver.js';
import type { Message } from '../raft/messages.js';
import { createDataFolder, DATA_FOLDER_MODE } from '../raft/storage/data-folder.js';
import { LevelStorage } from '../raft/storage/level.js';
import type { Membership } from '../raft/types.js';
import { validateMessage } from '../raft/validate-message.js';
import { decodeClusterKey } from '../rpc/cluster-key.js';
import { checkAddress, type Frame, RpcTransport } from '../rpc/transport.js';
import { type Command, encodeCommand } from '../state/commands.js';
import { type ApplyResult, StateStore } from '../state/store.js';
import { advertiseAddress, joinAddress } from './addresses.js';
import { AGENT_DEFAULTS, type AgentConfig } from './agent-config.js';
import { nextReconcileAction } from './autopilot.js';
import { ClientEndpoints } from './client-endpoints.js';
import { ClusterOperations } from './cluster-operations.js';
import { FoundingPromise } from './founding-promise.js';
import { Heartbeats } from './heartbeats.js';
import { KeyringLeader } from './keyring/keyring-leader.js';
import { ServerKeyring } from './keyring/server-keyring.js';
import { ServerMetrics } from './metrics.js';
import {
  foundingVoters,
  type Introduction,
  PeerDirectory,
  type PeerInfo,
  parseIntroduction,
} from './peer-directory.js';
import { ReplicatedState } from './replicated-state.js';
import { RequestError } from './request-error.js';
import { LeaderScheduling } from './scheduling/leader-scheduling.js';
import { loadOrCreateServerId, serverPaths } from './server-id.js';

/** How often the agent checks bootstrap, links and membership, in milliseconds. */
const HOUSEKEEPING_MS = 250;
/** Bytes of applied commands after which a snapshot is taken even below the entry threshold. */
const SNAPSHOT_THRESHOLD_BYTES = 64 * 1024 * 1024;

export interface ServerAgentOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Port the HTTP API listens on, when it differs from the configured one (tests use port 0). */
  readonly httpPort?: number;
  /** Called when the server must stop (its storage failed). */
  readonly onFatal: (error: unknown) => void;
}

/**
 * A running server: Raft over the websocket transport, the on-disk log, the replicated state,
 * discovery and bootstrap, and the leader's membership reconciliation. The HTTP API sits on top,
 * through `operations` (a ServerBackend).
 */
export class ServerAgent {
  readonly id: number;
  readonly config: AgentConfig;
  readonly metrics: ServerMetrics;
  readonly state: StateStore;
  readonly directory = new PeerDirectory();
  readonly operations: ClusterOperations;
  /** Heartbeat timers of client nodes; they run only while this server leads. */
  readonly heartbeats: Heartbeats;
  /** The RPC methods that client agents call on this server. */
  readonly clientEndpoints: ClientEndpoints;
  /** Root keys from the replicated state, unwrapped with the key-encryption key of `server.encrypt`. */
  readonly keyring: ServerKeyring;
  readonly #log: Logger;
  readonly #storage: LevelStorage;
  readonly #driver: RaftDriver;
  readonly #transport: RpcTransport;
  readonly #joinAddresses: string[];
  #self: PeerInfo;
  readonly #promise: FoundingPromise;
  readonly #replicated: ReplicatedState;
  /** Broker, workers and plan applier while this server leads; null otherwise. */
  #scheduling: LeaderScheduling | null = null;
  /** Raft term in which the heartbeat timers were started; their expiries count only in it. */
  #heartbeatTerm = 0;
  /** Key creation, rotation and removal while this server leads; null otherwise. */
  #keyringLeader: KeyringLeader | null = null;
  #housekeeping: NodeJS.Timeout | null = null;
  /** When this server may next ask the other founders for their promise (monotonic ms). */
  #nextFoundingAttempt = 0;
  #lastIntroductionAt = 0;
  #lastWaitingLog = 0;
  /** Addresses already reported as impossible to dial, so each is logged once. */
  readonly #undialable = new Set<string>();
  readonly #lastPeerWarning = new Map<number, number>();
  #reconciling = false;
  #bootstrapping = false;
  #closed = false;

  private constructor(parts: {
    id: number;
    config: AgentConfig;
    log: Logger;
    storage: LevelStorage;
    state: StateStore;
    driver: RaftDriver;
    transport: RpcTransport;
    metrics: ServerMetrics;
    self: PeerInfo;
    promise: FoundingPromise;
    replicated: ReplicatedState;
    keyring: ServerKeyring;
  }) {
    this.#promise = parts.promise;
    this.#replicated = parts.replicated;
    this.id = parts.id;
    this.config = parts.config;
    this.#log = parts.log;
    this.#storage = parts.storage;
    this.state = parts.state;
    this.#driver = parts.driver;
    this.#transport = parts.transport;
    this.metrics = parts.metrics;
    this.#self = parts.self;
    this.keyring = parts.keyring;
    this.#joinAddresses = parts.config.server.retryJoin.map((address) =>
      joinAddress(address, AGENT_DEFAULTS.rpcPort),
    );
    this.heartbeats = new Heartbeats({
      options: {
        minHeartbeatTtlMs: parts.config.server.minHeartbeatTtlMs,
        heartbeatGraceMs: parts.config.server.heartbeatGraceMs,
        failoverHeartbeatTtlMs: parts.config.server.failoverHeartbeatTtlMs,
      },
      logger: parts.log.child({ component: 'heartbeats' }),
      // Only the leader of the term that started the timers may mark a node down: a deposed
      // leader whose timers fire before it learns of the new term must not forward a node-status.
      onExpired: (nodeId) => {
        const status = this.#driver.status();
        if (status.role !== 'leader' || status.term !== this.#heartbeatTerm) return;
        return this.clientEndpoints.expireNode(nodeId);
      },
    });
    this.operations = new ClusterOperations({
      heartbeats: this.heartbeats,
      nodeName: parts.config.name,
      config: parts.config,
      state: parts.state,
      metrics: parts.metrics,
      driver: parts.driver,
      transport: parts.transport,
      directory: this.directory,
      self: () => this.#self,
      keyring: parts.keyring,
      logger: parts.log,
    });
    this.clientEndpoints = new ClientEndpoints({
      state: this.state,
      logger: parts.log.child({ component: 'client-rpc' }),
      apply: (command) => this.operations.apply(command),
      consistentRead: () => this.operations.consistentRead(),
      servers: () => this.operations.peers(),
      heartbeat: (nodeId) => this.operations.heartbeat(nodeId),
      variables: this.operations,
      newId: randomUUID,
      now: Date.now,
    });
  }

  /** Opens the data folder, starts the transport and the Raft driver, and begins discovery. */
  static async start(options: ServerAgentOptions): Promise<ServerAgent> {
    const { config } = options;
    const paths = serverPaths(config.dataDir);
    // Owner-only before anything is written into it, because the Raft storage contains every token secret.
    const looserMode = await createDataFolder(paths.serverDir);
    const id = await loadOrCreateServerId(paths.idFile);
    const log = options.logger.child({ node: config.name, id });
    if (looserMode !== null) {
      log.warn(
        { path: paths.serverDir, mode: looserMode.toString(8), newMode: DATA_FOLDER_MODE.toString(8) },
        'narrowed the mode of the server data folder because other users could access it',
      );
    }
    const promise = await FoundingPromise.load(paths.promiseFile);
    const storage = await LevelStorage.open(paths.raftDir);
    try {
      const durable = await storage.load();
      const state = new StateStore();
      if (durable.snapshot !== null) state.restore(durable.snapshot.data);
      const metrics = new ServerMetrics(config.name);
      const clusterKey = decodeClusterKey(config.server.encrypt ?? '');
      const keyring = new ServerKeyring({
        state,
        kek: keyEncryptionKey(clusterKey),
        logger: log.child({ component: 'keyring' }),
      });

      // The agent object does not exist yet while the transport and driver are built, so their
      // callbacks reach it through this holder.
      let agent: ServerAgent | null = null;
      const transport = await RpcTransport.listen({
        nodeId: id,
        clusterKey,
        host: config.bindAddr,
        port: config.ports.rpc,
        logger: log,
        introduction: () => ({ ...(agent?.introduction() ?? { id }) }),
        onIntroduction: (peerId, intro) => agent?.onIntroduction(peerId, intro),
        onFrame: (from, frame) => agent?.onFrame(from, frame),
        onClientRequest: (method, body, context) =>
          agent === null
            ? Promise.reject(new RequestError(500, 'No cluster leader'))
            : agent.clientEndpoints.handle(method, body, context),
        onRequest: (from, frame) => {
          if (agent === null) return Promise.reject(new Error('server is starting'));
          if (frame.kind === 'found') return agent.onFoundingRequest(from, frame);
          return agent.operations.handleRequest(from, frame);
        },
      });
      const tickMs = AGENT_DEFAULTS.raftTickMs * config.server.raftMultiplier;
      const replicated = new ReplicatedState(state);
      const driver = new RaftDriver({
        raft: {
          ...RAFT_DEFAULTS,
          id,
          random: (bound) => randomInt(bound),
          snapshotTrailingEntries: config.server.raftTrailingLogs,
        },
        storage,
        durable,
        sender: { send: (message: Message) => transport.send(message.to, { kind: 'raft', message }) },
        stateMachine: replicated,
        tickMs,
        snapshotThresholdEntries: config.server.raftSnapshotThreshold,
        snapshotThresholdBytes: SNAPSHOT_THRESHOLD_BYTES,
        logger: log,
        observer: {
          fsync: (seconds) => metrics.observeFsync(seconds),
          commit: (seconds) => metrics.observeAppend(seconds),
          softState: () => {
            metrics.leaderChanged();
            agent?.afterLeaderChange();
          },
          membership: (membership) => agent?.onMembership(membership),
        },
        onFatal: (error) => {
          log.error(
            { err: error },
            'storage failed; stopping the server so that it acknowledges nothing it has not stored',
          );
          options.onFatal(error);
        },
      });
      const self: PeerInfo = {
        id,
        name: config.name,
        rpcAddr: `${advertiseAddress(config.bindAddr)}:${transport.port}`,
        httpAddr: `${advertiseAddress(config.bindAddr)}:${options.httpPort ?? config.ports.http}`,
      };
      agent = new ServerAgent({
        id,
        config,
        log,
        storage,
        state,
        replicated,
        driver,
        transport,
        metrics,
        self,
        promise,
        keyring,
      });
      agent.#begin(durable.snapshot?.meta.index ?? 0);
      return agent;
    } catch (err) {
      await storage.close();
      throw err;
    }
  }

  /** RPC port actually bound (differs from the configuration when it asked for port 0). */
  get rpcPort(): number {
    return this.#transport.port;
  }

  /** Sets the HTTP address announced to other servers, once the HTTP listener has its port. */
  setHttpPort(port: number): void {
    this.#self = { ...this.#self, httpAddr: `${advertiseAddress(this.config.bindAddr)}:${port}` };
  }

  #begin(snapshotIndex: number): void {
    this.#log.info(
      {
        rpc: this.#self.rpcAddr,
        snapshotIndex,
        pristine: this.#driver.isPristine(),
        ...this.#driver.status().membership,
      },
      'server started',
    );
    const { membership } = this.#driver.status();
    const everMember = [...membership.voters, ...membership.learners, ...membership.removed].includes(
      this.id,
    );
    if (!this.#driver.isPristine() && !everMember) {
      this.#log.error(
        { ...membership },
        'this server id is not in the membership stored in its own log; if server/node-id was replaced or the data folder copied from another server, restore the original (a server that stopped while catching up from a snapshot may also show this once)',
      );
    }
    const { bootstrapExpect, retryJoin } = this.config.server;
    if (this.#driver.isPristine() && bootstrapExpect === 0 && retryJoin.length === 0) {
      this.#log.warn(
        'this server has no data, bootstrap_expect is 0 and retry_join is empty: it will neither found a cluster nor find one; set server.bootstrap_expect on the founding servers, or server_join.retry_join',
      );
    }
    this.#driver.start();
    for (const address of this.#joinAddresses) this.#transport.connect(address);
    this.#housekeeping = setInterval(() => this.#housekeep(), HOUSEKEEPING_MS);
  }

  /** Stops the server: no new work, the batch in flight finishes, then the log is closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#housekeeping !== null) clearInterval(this.#housekeeping);
    // Leader services may wait on proposals that only settle once the driver stops, so stop both
    // before waiting for either.
    const scheduling = this.#scheduling?.stop();
    this.#scheduling = null;
    const keyringLeader = this.#keyringLeader?.stop();
    this.#keyringLeader = null;
    this.heartbeats.stop();
    await this.#driver.stop();
    await scheduling;
    await keyringLeader;
    await this.#transport.close();
    this.metrics.close();
    await this.#storage.close();
    this.#log.info('server stopped');
  }

  private introduction(): Introduction {
    const peers = new Map<number, PeerInfo>();
    for (const server of this.state.servers()) peers.set(server.id, server);
    for (const intro of this.directory.all()) {
      peers.set(intro.id, {
        id: intro.id,
        name: intro.name,
        rpcAddr: intro.rpcAddr,
        httpAddr: intro.httpAddr,
      });
    }
    return {
      ...this.#self,
      pristine: this.#driver.isPristine(),
      bootstrapExpect: this.config.server.bootstrapExpect,
      peers: [...peers.values()].slice(0, 256),
    };
  }

  private onIntroduction(peerId: number, value: unknown): void {
    const intro = parseIntroduction(value, checkAddress);
    if (typeof intro === 'string' || intro.id !== peerId) {
      const reason = typeof intro === 'string' ? intro : `it claims id ${intro.id}`;
      this.#log.warn({ peer: peerId, reason }, 'ignored an invalid introduction');
      return;
    }
    const known = this.directory.get(intro.id);
    if (
      intro.id === this.id ||
      (known !== undefined && known.rpcAddr !== intro.rpcAddr && known.name !== intro.name)
    ) {
      // Two processes with one id: a copied data folder or a replaced server/node-id file. Raft
      // would count one vote for two disks, so an operator must act.
      this.#log.error(
        {
          id: intro.id,
          names: [known?.name ?? this.#self.name, intro.name],
          addresses: [known?.rpcAddr ?? this.#self.rpcAddr, intro.rpcAddr],
        },
        'two servers claim the same id; was a data folder copied? Stop one of them and start it with an empty data folder',
      );
    }
    for (const address of this.directory.learn(intro, performance.now())) {
      if (address !== this.#self.rpcAddr) this.#dial(address);
    }
    this.#maybeBootstrap();
  }

  /** Logs a faulty peer's message at warn, at most once per peer every 10 s, so a flood cannot fill the log. */
  #warnPeer(peer: number, reason: string, message: string): void {
    const now = performance.now();
    if (now - (this.#lastPeerWarning.get(peer) ?? -Infinity) < 10_000) return;
    if (this.#lastPeerWarning.size >= 1024) this.#lastPeerWarning.clear();
    this.#lastPeerWarning.set(peer, now);
    this.#log.warn({ peer, reason }, message);
  }

  private onFrame(from: number, frame: Frame): void {
    if (frame.kind === 'introduction') {
      this.onIntroduction(from, frame.introduction);
      return;
    }
    if (frame.kind !== 'raft') {
      this.#log.warn({ peer: from, kind: frame.kind }, 'ignored a frame of unknown kind');
      return;
    }
    const problem = validateMessage(frame.message);
    if (problem !== null) {
      this.#warnPeer(from, problem, 'dropped an invalid Raft message');
      return;
    }
    const message = frame.message as Message;
    // The transport authenticated the peer; a message that claims another sender is dropped, so
    // one server cannot speak for another.
    if (message.from !== from) {
      this.#warnPeer(
        from,
        `it claims to come from ${message.from}`,
        'dropped a Raft message whose sender does not match its connection',
      );
      return;
    }
    if (from === this.#driver.status().leaderId) this.operations.noteLeaderContact();
    this.#driver.step(message);
  }

  #housekeep(): void {
    if (this.#closed) return;
    const status = this.#driver.status();
    this.metrics.setRaftStatus({
      term: status.term,
      commitIndex: status.commit,
      appliedIndex: status.applied,
      lastIndex: status.lastIndex,
      isLeader: status.role === 'leader',
    });
    this.metrics.setProposalsWaiting(this.#driver.proposalsWaiting());
    // Servers recorded in the replicated state are dialled too, so a restarted server finds the
    // cluster even when its join list names only some of it.
    const removed = new Set(status.membership.removed);
    for (const server of this.state.servers()) {
      if (server.id !== this.id && !removed.has(server.id)) this.#dial(server.rpcAddr);
    }
    this.#reintroduce();
    this.#maybeBootstrap();
    if (status.role === 'leader') void this.#reconcile();
  }

  /**
   * Introductions travel once per connection; servers repeat theirs so that what they know later
   * (more servers, no longer pristine, a new address) reaches every peer. Often while founding,
   * because founding waits on it, and rarely afterwards.
   */
  #reintroduce(): void {
    const now = performance.now();
    const interval = this.#driver.isPristine() ? HOUSEKEEPING_MS : 5000;
    if (now - this.#lastIntroductionAt < interval) return;
    this.#lastIntroductionAt = now;
    const introduction = this.introduction();
    for (const peer of this.#transport.connectedPeers()) {
      this.#transport.send(peer, { kind: 'introduction', introduction: { ...introduction } });
    }
  }

  /**
   * Keeps a link to `address`. An address that cannot be dialled (it came from a peer or from the
   * replicated servers table) is logged once and skipped: one bad record must not stop a server.
   */
  #dial(address: string): void {
    try {
      this.#transport.connect(address);
    } catch (err) {
      if (this.#undialable.has(address)) return;
      if (this.#undialable.size < 1024) this.#undialable.add(address);
      this.#log.warn(
        { address, reason: (err as Error).message },
        'cannot dial a server address; skipping it',
      );
    }
  }

  #maybeBootstrap(): void {
    if (this.#bootstrapping || !this.#driver.isPristine()) return;
    const now = performance.now();
    if (now < this.#nextFoundingAttempt) return;
    const voters = foundingVoters(this.introduction(), this.directory.all());
    if (voters === null) {
      if (now - this.#lastWaitingLog >= 10_000) {
        this.#lastWaitingLog = now;
        const known = this.directory.all();
        this.#log.info(
          {
            bootstrapExpect: this.config.server.bootstrapExpect,
            known: known.map((intro) => ({ name: intro.name, pristine: intro.pristine })),
          },
          'waiting to found or join a cluster: founding needs bootstrap_expect servers without data that know each other; joining needs the leader of an existing cluster to add this server',
        );
      }
      return;
    }
    if (this.#promise.founder !== null && this.#promise.founder !== this.id) return;
    this.#bootstrapping = true;
    this.#found(voters)
      .catch((err: unknown) => this.#log.error({ err }, 'founding the cluster failed; will retry'))
      .finally(() => {
        this.#bootstrapping = false;
      });
  }

  /** Collects every other founder's promise, then writes the founding membership and campaigns. */
  async #found(voters: number[]): Promise<void> {
    if (!(await this.#promise.give(this.id))) return;
    const others = voters.filter((voter) => voter !== this.id);
    const answers = await Promise.all(
      others.map((voter) =>
        this.#transport.request(voter, { kind: 'found', founder: this.id }, 2000).then(
          (answer) => (answer.kind === 'promised' ? null : `${voter}: ${String(answer.reason)}`),
          (err: unknown) => `${voter}: ${(err as Error).message}`,
        ),
      ),
    );
    const rejections = answers.filter((answer): answer is string => answer !== null);
    if (rejections.length > 0) {
      this.#log.warn(
        { voters, rejections },
        'cannot found the cluster yet: not every founder promised; retrying. A server that promised another founder stays with it; if that founder is gone for good, stop the servers that promised it and delete server/founding-promise in their data folders',
      );
      this.#nextFoundingAttempt = performance.now() + 1000 + randomInt(1000);
      return;
    }
    if (await this.#driver.bootstrap(voters)) this.#driver.campaign();
  }

  /** Handles a pristine server's request for the promise that it alone founds the cluster with this one. */
  onFoundingRequest(from: number, frame: Frame): Promise<Frame> {
    if (frame.founder !== from) {
      return Promise.resolve({ kind: 'refused', reason: 'a founder can only ask for itself' });
    }
    if (!this.#driver.isPristine()) {
      return Promise.resolve({ kind: 'refused', reason: 'already a member of a cluster' });
    }
    return this.#promise.give(from).then((given) => {
      if (given) this.#log.info({ founder: from }, 'promised a founder to found the cluster with it');
      return given
        ? { kind: 'promised' }
        : { kind: 'refused', reason: `promised to founder ${this.#promise.founder}` };
    });
  }

  private afterLeaderChange(): void {
    this.operations.leaderChanged();
    const status = this.#driver.status();
    if (status.role === 'leader') {
      void this.#reconcile();
      if (this.#keyringLeader === null && !this.#closed) {
        this.#keyringLeader = this.#newKeyringLeader(status.term);
        void this.#keyringLeader
          .start()
          .catch((err: unknown) => this.#log.error({ err }, 'the keyring duties of this leader failed'));
      }
      if (this.#scheduling === null && !this.#closed) {
        // The scheduling services wait for an active root key before the plan applier starts.
        const scheduling = new LeaderScheduling({
          state: this.state,
          driver: this.#driver,
          logger: this.#log,
          capacityFreedIndex: () => this.#replicated.capacityFreedIndex,
          keyring: this.keyring,
          region: this.config.region,
          oidcIssuer: this.config.server.oidcIssuer,
        });
        this.#scheduling = scheduling;
        void scheduling.start().then(() => {
          // The same barrier as the scheduling services: timers restart from complete state, with
          // the failover TTL, so that no healthy node is marked down across an election.
          if (this.#scheduling !== scheduling) return;
          const live = this.state.nodes().filter((node) => node.Status !== 'down');
          this.#heartbeatTerm = this.#driver.status().term;
          this.heartbeats.start(live.map((node) => node.ID));
        });
      }
    } else {
      if (this.#scheduling !== null) {
        const stopping = this.#scheduling;
        this.#scheduling = null;
        this.heartbeats.stop();
        void stopping.stop();
      }
      if (this.#keyringLeader !== null) {
        void this.#keyringLeader.stop();
        this.#keyringLeader = null;
      }
    }
  }

  /** Builds the keyring duties of one term; its commits are rejected once the term is over. */
  #newKeyringLeader(term: number): KeyringLeader {
    const { server } = this.config;
    return new KeyringLeader({
      state: this.state,
      keyring: this.keyring,
      barrier: () => this.#driver.readIndex(),
      commit: async (command: Command) => {
        const { index, result } = await this.#driver.propose(encodeCommand(command), term);
        const outcome = result as ApplyResult;
        if (!outcome.ok) throw new Error(`${command.type} rejected at index ${index}: ${outcome.message}`);
        return index;
      },
      now: Date.now,
      options: {
        rotationThresholdMs: server.rootKeyRotationThresholdMs,
        gcThresholdMs: server.rootKeyGcThresholdMs,
        gcIntervalMs: server.rootKeyGcIntervalMs,
      },
      logger: this.#log.child({ component: 'keyring-leader' }),
    });
  }

  private onMembership(membership: Membership): void {
    if (membership.removed.includes(this.id)) {
      this.#log.warn('this server was removed from the cluster; it takes no further part in Raft');
    }
  }

  /** Takes one step, on the leader, toward recording and admitting the connected servers. */
  async #reconcile(): Promise<void> {
    if (this.#reconciling) return;
    this.#reconciling = true;
    try {
      const status = this.#driver.status();
      const connected = new Set(this.#transport.connectedPeers());
      const live: PeerInfo[] = [this.#self];
      for (const intro of this.directory.all()) {
        if (connected.has(intro.id)) live.push(intro);
      }
      const action = nextReconcileAction({
        selfId: this.id,
        membership: status.membership,
        commit: status.commit,
        progress: this.#driver.followerProgress(),
        live: live.map(({ id, name, rpcAddr, httpAddr }) => ({ id, name, rpcAddr, httpAddr })),
        recorded: this.state.servers(),
        pristine: this.directory
          .all()
          .filter((intro) => intro.pristine && connected.has(intro.id))
          .map((intro) => intro.id),
      });
      if (action === null) return;
      this.#log.info(
        { action: action.kind, server: 'server' in action ? action.server.id : action.id },
        'reconciling membership',
      );
      if (action.kind === 'record-server') {
        await this.operations.apply({ type: 'server-upsert', v: 1, server: action.server });
      } else if (action.kind === 'add-learner') {
        await this.#driver.proposeMembership({ type: 'add-learner', nodeId: action.id });
      } else {
        await this.#driver.proposeMembership({ type: 'promote', nodeId: action.id });
      }
    } catch (err) {
      this.#log.debug({ err }, 'membership reconciliation will retry');
    } finally {
      this.#reconciling = false;
    }
  }
}
