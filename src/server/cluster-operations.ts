import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { JsonWebKeySet, RootKeyMeta } from '../keyring/index.js';
import type { RaftDriver } from '../raft/driver.js';
import { RaftError } from '../raft/errors.js';
import type { NodeId } from '../raft/types.js';
import type { Frame, RpcTransport } from '../rpc/transport.js';
import { type Command, encodeCommand, validateCommand } from '../state/commands.js';
import type { ApplyResult, StateStore } from '../state/store.js';
import type { Job } from '../structs/job.js';
import { SIGNET_VERSION } from '../version.js';
import { AclOperations } from './acl/acl-operations.js';
import { AclResolver, type ResolvedAcl } from './acl/acl-resolver.js';
import { bootstrapResetPath } from './acl/bootstrap-reset.js';
import type { AgentConfig } from './agent-config.js';
import type {
  AgentMember,
  JobDeregisterResult,
  JobRegisterResult,
  LeaderContact,
  Principal,
  RaftServer,
  RootKeyRotateResult,
  ServerBackend,
  SnapshotContext,
} from './backend.js';
import type { Heartbeats } from './heartbeats.js';
import { Authenticator } from './keyring/authenticator.js';
import type { ServerKeyring } from './keyring/server-keyring.js';
import type { ServerMetrics } from './metrics.js';
import type { PeerDirectory, PeerInfo } from './peer-directory.js';
import { RequestError } from './request-error.js';
import { newEvaluation, nowNanos } from './scheduling/evaluations.js';
import { VariableOperations } from './variables/variable-operations.js';

/**
 * How long a request waits for a leader before it fails, as Nomad's rpc_hold_timeout: long enough
 * to ride out an election (1 to 2 s at the default timing), short enough for an HTTP client.
 */
const HOLD_MS = 5000;
/** Pause between attempts while no leader is known or the leader is changing. */
const RETRY_MS = 50;

const NO_LEADER = 'No cluster leader';

const LEADER_CHANGED =
  'the leader changed before the write was committed; it was not applied, so it is safe to retry';

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ClusterOperationsDeps {
  readonly nodeName: string;
  readonly config: AgentConfig;
  readonly state: StateStore;
  readonly metrics: ServerMetrics;
  readonly driver: RaftDriver;
  readonly transport: RpcTransport;
  readonly directory: PeerDirectory;
  readonly self: () => PeerInfo;
  readonly heartbeats: Heartbeats;
  /** This server's root keys; it also wraps the keys that `rotateRootKey` creates. */
  readonly keyring: ServerKeyring;
  readonly logger: Logger;
  /** Wall clock in Unix milliseconds, for key creation times and token time claims; Date.now by default. */
  readonly now?: () => number;
}

/**
 * Reply of the leader to a forwarded request. `retry` means it was not applied: try again. `done`
 * carries the entry's index, or for a heartbeat the TTL handed to the node.
 */
type LeaderAnswer =
  | { kind: 'done'; index: number }
  | { kind: 'retry'; reason: string }
  | { kind: 'error'; status: number; message: string };

/**
 * The server's operations as the HTTP API uses them (ServerBackend), and the leader's side of the
 * requests that followers forward. A write on a follower travels to the leader over the server
 * RPC; the follower replies once it has applied the write itself, so a client that reads from the
 * same server next sees its own write even with `?stale`.
 */
export class ClusterOperations implements ServerBackend {
  readonly nodeName: string;
  readonly state: StateStore;
  readonly metrics: ServerMetrics;
  readonly #deps: ClusterOperationsDeps;
  readonly #now: () => number;
  readonly #authenticator: Authenticator;
  readonly #aclResolver: AclResolver;
  readonly acl: AclOperations;
  readonly variables: VariableOperations;
  #lastLeaderContact = 0;
  /** Term of the write barrier that the running HTTP write passed, when it skipped ReadIndex. */
  readonly #writeTerm = new AsyncLocalStorage<number>();
  /** Requests that wait for a leader; each goes on as soon as one is known, or after RETRY_MS. */
  readonly #leaderWaiters = new Set<() => void>();

  constructor(deps: ClusterOperationsDeps) {
    this.#deps = deps;
    this.nodeName = deps.nodeName;
    this.state = deps.state;
    this.metrics = deps.metrics;
    this.#now = deps.now ?? Date.now;
    this.#authenticator = new Authenticator({
      state: deps.state,
      keyring: deps.keyring,
      aclEnabled: deps.config.acl.enabled,
      now: this.#now,
      logger: deps.logger.child({ component: 'auth' }),
    });
    this.#aclResolver = new AclResolver({
      state: deps.state,
      enabled: deps.config.acl.enabled,
      now: this.#now,
      logger: deps.logger.child({ component: 'acl' }),
    });
    const writes = {
      state: deps.state,
      apply: (command: Command) => this.apply(command),
      consistentRead: () => this.consistentRead(),
      now: this.#now,
    };
    this.acl = new AclOperations({
      ...writes,
      enabled: deps.config.acl.enabled,
      bootstrapResetFile: bootstrapResetPath(deps.config.dataDir),
      logger: deps.logger.child({ component: 'acl' }),
    });
    this.variables = new VariableOperations({
      ...writes,
      keyring: deps.keyring,
      logger: deps.logger.child({ component: 'variables' }),
    });
  }

  rootKeys(): RootKeyMeta[] {
    return this.state.rootKeys().map((row) => row.Meta);
  }

  async rotateRootKey(full: boolean): Promise<RootKeyRotateResult> {
    // Any server can wrap the key, because all share server.encrypt; only the wrapped form travels.
    const { command, meta } = this.#deps.keyring.newRootKeyCommand(
      this.#now(),
      full ? 'rekeying' : 'inactive',
    );
    const { index } = await this.apply(command);
    this.#deps.logger.info({ keyId: meta.KeyID, full, index }, 'rotated the root key on request');
    const stored = this.state.rootKey(meta.KeyID)?.Meta;
    return { Key: stored ?? { ...meta, CreateIndex: index, ModifyIndex: index }, Index: index };
  }

  async removeRootKey(keyId: string, force: boolean): Promise<{ Index: number }> {
    if (!KEY_ID.test(keyId)) {
      throw new RequestError(
        400,
        `invalid root key id ${JSON.stringify(keyId.slice(0, 40))}: expected a UUID as signet operator root keyring list shows it`,
      );
    }
    const { index } = await this.apply({ type: 'root-key-delete', v: 1, keyId, force });
    this.#deps.logger.info({ keyId, force, index }, 'removed a root key on request');
    return { Index: index };
  }

  async publicKeySet(): Promise<JsonWebKeySet> {
    return this.#deps.keyring.publicKeys();
  }

  oidcIssuer(): string | null {
    return this.#deps.config.server.oidcIssuer;
  }

  authenticate(token: string): Promise<Principal> {
    return this.#authenticator.authenticate(token);
  }

  async resolveAcl(principal: Principal | null): Promise<ResolvedAcl> {
    await this.#aclResolver.prepare(principal);
    return this.#aclResolver.resolve(principal);
  }

  /** Records contact with the leader; the agent calls it for every Raft message from the leader. */
  noteLeaderContact(): void {
    this.#lastLeaderContact = performance.now();
  }

  /** Wakes the requests that wait for a leader; the agent calls it when the role or leader changes. */
  leaderChanged(): void {
    for (const wake of [...this.#leaderWaiters]) wake();
  }

  /** Waits RETRY_MS, or less when the leader changes first, before a request tries again. */
  #pause(): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#leaderWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, RETRY_MS);
      this.#leaderWaiters.add(wake);
    });
  }

  async consistentRead(): Promise<void> {
    await this.#untilConfirmed(() => this.#deps.driver.readIndex());
  }

  writeBarrier(): Promise<number | null> {
    return this.#untilConfirmed(() => this.#deps.driver.writeBarrier());
  }

  withWriteTerm<T>(term: number | null, run: () => Promise<T>): Promise<T> {
    return term === null ? run() : this.#writeTerm.run(term, run);
  }

  /** Runs `confirm` until it succeeds, retrying while no leader is known, for at most HOLD_MS. */
  async #untilConfirmed<T>(confirm: () => Promise<T>): Promise<T> {
    this.#refuseIfRemoved();
    const deadline = performance.now() + HOLD_MS;
    for (;;) {
      try {
        return await withDeadline(confirm(), deadline);
      } catch (err) {
        if (!(err instanceof RaftError) || err.code !== 'NO_LEADER') {
          if (err instanceof DeadlineError) throw new RequestError(500, NO_LEADER);
          throw err;
        }
      }
      if (performance.now() >= deadline) throw new RequestError(500, NO_LEADER);
      await this.#pause();
    }
  }

  async apply(command: Command): Promise<{ index: number }> {
    let checked: Command;
    try {
      checked = validateCommand(command);
    } catch (err) {
      throw new RequestError(400, (err as Error).message);
    }
    this.#refuseIfRemoved();
    const data = encodeCommand(checked);
    const deadline = performance.now() + HOLD_MS;
    const index = await this.#onLeader(
      { kind: 'apply', data },
      (term) => this.#applyAsLeader(data, term),
      deadline,
    );
    await withDeadline(this.#deps.driver.waitForApplied(index), deadline).catch(() => undefined);
    return { index };
  }

  async registerJob(job: Job): Promise<JobRegisterResult> {
    if (this.state.namespace(job.Namespace) === null) {
      throw new RequestError(400, `namespace "${job.Namespace}" does not exist`);
    }
    const now = nowNanos();
    const evaluation = newEvaluation({
      id: randomUUID(),
      namespace: job.Namespace,
      jobId: job.ID,
      job,
      trigger: 'job-register',
      now,
    });
    const { index } = await this.apply({
      type: 'job-register',
      v: 1,
      job: { ...job, SubmitTime: now },
      eval: evaluation,
    });
    const stored = this.state.job(job.Namespace, job.ID);
    return {
      EvalID: evaluation.ID,
      EvalCreateIndex: index,
      JobModifyIndex: stored?.JobModifyIndex ?? index,
      Index: index,
    };
  }

  async deregisterJob(namespace: string, jobId: string, purge: boolean): Promise<JobDeregisterResult> {
    let job = this.state.job(namespace, jobId);
    if (job === null) {
      // The write barrier may have skipped ReadIndex, so a 404, which commits nothing, is confirmed.
      await this.consistentRead();
      job = this.state.job(namespace, jobId);
    }
    if (job === null) throw new RequestError(404, 'job not found');
    const now = nowNanos();
    const evaluation = newEvaluation({
      id: randomUUID(),
      namespace,
      jobId,
      job,
      trigger: 'job-deregister',
      now,
    });
    const { index } = await this.apply({
      type: 'job-deregister',
      v: 1,
      namespace,
      jobId,
      purge,
      eval: evaluation,
      time: now,
    });
    return { EvalID: evaluation.ID, Index: index };
  }

  /**
   * Resets a client node's heartbeat timer on the leader (forwarded when this server follows) and
   * returns the TTL, in ms, that the node must heartbeat within.
   */
  heartbeat(nodeId: string): Promise<number> {
    const deadline = performance.now() + HOLD_MS;
    return this.#onLeader(
      { kind: 'node-heartbeat', nodeId },
      async () => this.#deps.heartbeats.heartbeat(nodeId),
      deadline,
    );
  }

  async removePeer(id: string): Promise<void> {
    const nodeId = this.#memberId(id);
    const deadline = performance.now() + HOLD_MS;
    await this.#onLeader(
      { kind: 'remove-peer', id: nodeId },
      (term) => this.#removeAsLeader(nodeId, term),
      deadline,
    );
  }

  async transferLeadership(id: string | null): Promise<void> {
    const target = id === null ? null : this.#memberId(id);
    const deadline = performance.now() + HOLD_MS;
    await this.#onLeader(
      { kind: 'transfer-leadership', id: target },
      () => this.#transferAsLeader(target, deadline),
      deadline,
    );
  }

  leaderContact(): LeaderContact {
    const status = this.#deps.driver.status();
    if (status.role === 'leader') return { knownLeader: true, lastContactMs: 0 };
    return {
      knownLeader: status.leaderId !== 0,
      lastContactMs:
        this.#lastLeaderContact === 0 ? 0 : Math.round(performance.now() - this.#lastLeaderContact),
    };
  }

  leaderAddress(): string {
    const { leaderId } = this.#deps.driver.status();
    return leaderId === 0 ? '' : (this.#addressOf(leaderId) ?? '');
  }

  peers(): string[] {
    const { voters } = this.#deps.driver.status().membership;
    return voters.map((id) => this.#addressOf(id)).filter((address): address is string => address !== null);
  }

  raftConfiguration(): { Index: number; Servers: RaftServer[] } {
    const status = this.#deps.driver.status();
    const servers: RaftServer[] = [];
    for (const id of [...status.membership.voters, ...status.membership.learners]) {
      servers.push({
        ID: String(id),
        Node: this.#nameOf(id),
        Address: this.#addressOf(id) ?? '',
        Leader: id === status.leaderId,
        Voter: status.membership.voters.includes(id),
        RaftProtocol: '3',
      });
    }
    return { Index: status.commit, Servers: servers };
  }

  snapshotContext(appliedIndex: number): SnapshotContext {
    const { term } = this.#deps.driver.status();
    return { term, membership: this.#deps.driver.membershipAt(appliedIndex) };
  }

  members(): AgentMember[] {
    const status = this.#deps.driver.status();
    const self = this.#deps.self();
    const connected = new Set(this.#deps.transport.connectedPeers());
    const removed = new Set(status.membership.removed);
    const known = new Map<NodeId, PeerInfo>();
    for (const server of this.state.servers()) known.set(server.id, server);
    for (const intro of this.#deps.directory.all()) known.set(intro.id, intro);
    known.set(self.id, self);
    const members: AgentMember[] = [];
    for (const server of known.values()) {
      const [host, port] = splitAddress(server.rpcAddr);
      const alive = server.id === self.id || connected.has(server.id);
      let memberStatus: AgentMember['Status'] = alive ? 'alive' : 'failed';
      if (removed.has(server.id)) memberStatus = 'left';
      members.push({
        Name: server.name,
        Addr: host,
        Port: port,
        Status: memberStatus,
        Tags: {
          role: 'nomad',
          region: this.#deps.config.region,
          dc: 'dc1',
          id: String(server.id),
          port: String(port),
          raft_vsn: '3',
          build: SIGNET_VERSION,
          expect: String(this.#deps.config.server.bootstrapExpect),
          leader: String(server.id === status.leaderId),
        },
      });
    }
    return members.sort((a, b) => a.Name.localeCompare(b.Name));
  }

  self(): Record<string, unknown> {
    const { config } = this.#deps;
    const status = this.#deps.driver.status();
    const self = this.#deps.self();
    return {
      config: {
        Name: config.name,
        Region: config.region,
        DataDir: config.dataDir,
        BindAddr: config.bindAddr,
        Ports: { HTTP: config.ports.http, RPC: config.ports.rpc },
        Server: {
          Enabled: config.server.enabled,
          BootstrapExpect: config.server.bootstrapExpect,
          RetryJoin: config.server.retryJoin,
          RaftMultiplier: config.server.raftMultiplier,
          RaftSnapshotThreshold: config.server.raftSnapshotThreshold,
          RaftTrailingLogs: config.server.raftTrailingLogs,
        },
        ACL: { Enabled: config.acl.enabled },
        LogLevel: config.logLevel,
        Version: SIGNET_VERSION,
      },
      member: this.members().find((member) => member.Tags.id === String(self.id)) ?? null,
      stats: {
        raft: {
          id: String(status.id),
          state: status.membership.removed.includes(status.id) ? 'removed' : status.role,
          term: String(status.term),
          commit_index: String(status.commit),
          applied_index: String(status.applied),
          last_log_index: String(status.lastIndex),
          last_log_term: String(status.lastLogTerm),
          snapshot_index: String(status.snapshotIndex),
          last_snapshot_term: String(status.snapshotTerm),
          leader: String(status.leaderId),
          num_peers: String(Math.max(0, status.membership.voters.length - 1)),
        },
      },
    };
  }

  health(): { ok: boolean; message: string } {
    const { leaderId } = this.#deps.driver.status();
    return leaderId === 0 ? { ok: false, message: NO_LEADER } : { ok: true, message: 'ok' };
  }

  /** Handles a request that a follower forwarded to this leader. Never rejects for an expected failure. */
  async handleRequest(from: NodeId, frame: Frame): Promise<Frame> {
    const answer = await this.#answer(frame).catch((err: unknown): LeaderAnswer => {
      if (err instanceof RequestError) return { kind: 'error', status: err.status, message: err.message };
      if (isRetryable(err)) return { kind: 'retry', reason: (err as Error).message };
      this.#deps.logger.error({ err, peer: from, kind: frame.kind }, 'forwarded request failed');
      return { kind: 'error', status: 500, message: (err as Error).message };
    });
    return answer;
  }

  async #answer(frame: Frame): Promise<LeaderAnswer> {
    if (this.#deps.driver.status().role !== 'leader') return { kind: 'retry', reason: 'not the leader' };
    const deadline = performance.now() + HOLD_MS;
    switch (frame.kind) {
      case 'apply': {
        if (!(frame.data instanceof Uint8Array))
          throw new RequestError(400, 'apply request without command data');
        return { kind: 'done', index: await this.#applyAsLeader(frame.data) };
      }
      case 'remove-peer':
        if (typeof frame.id !== 'number') throw new RequestError(400, 'remove-peer request without an id');
        return { kind: 'done', index: await this.#removeAsLeader(frame.id) };
      case 'node-heartbeat':
        if (typeof frame.nodeId !== 'string')
          throw new RequestError(400, 'node-heartbeat request without a node id');
        return { kind: 'done', index: this.#deps.heartbeats.heartbeat(frame.nodeId) };
      case 'transfer-leadership': {
        const target = frame.id === null ? null : frame.id;
        if (target !== null && typeof target !== 'number') {
          throw new RequestError(400, 'transfer-leadership request with an invalid id');
        }
        return { kind: 'done', index: await this.#transferAsLeader(target, deadline) };
      }
      default:
        throw new RequestError(
          400,
          `unknown request kind ${JSON.stringify(String(frame.kind).slice(0, 40))}`,
        );
    }
  }

  async #applyAsLeader(data: Uint8Array, expectedTerm?: number): Promise<number> {
    const { index, result } = await this.#deps.driver.propose(data, expectedTerm);
    const outcome = result as ApplyResult;
    if (!outcome.ok) throw new RequestError(outcome.status, outcome.message);
    return index;
  }

  /**
   * Runs the leader's side of a write that this leader authorized in `term` without a ReadIndex
   * round (writeBarrier), only while it leads that term. Handed to another leader, or run by this
   * server in a later term, the write could take effect on the strength of a check made on an old
   * copy of the state (a token deleted since, say).
   */
  async #onLeaderInTerm(
    local: (term: number) => Promise<number>,
    term: number,
    deadline: number,
  ): Promise<number> {
    for (;;) {
      const status = this.#deps.driver.status();
      if (status.role !== 'leader' || status.term !== term) throw new RequestError(500, LEADER_CHANGED);
      try {
        return await withDeadline(local(term), deadline);
      } catch (err) {
        if (err instanceof DeadlineError) {
          throw new RequestError(
            500,
            'timed out waiting for the commit; the outcome is unknown, read before retrying',
          );
        }
        // NOT_LEADER comes before the proposal, or for an entry that a later leader replaced.
        if (err instanceof RaftError && err.code === 'NOT_LEADER')
          throw new RequestError(500, LEADER_CHANGED);
        if (!isRetryable(err) || performance.now() >= deadline) throw toRequestError(err);
      }
      // A leadership transfer under way refuses proposals: it ends in another term or fails.
      await this.#pause();
    }
  }

  async #removeAsLeader(id: NodeId, expectedTerm?: number): Promise<number> {
    const { index } = await this.#deps.driver.proposeMembership({ type: 'remove', nodeId: id }, expectedTerm);
    this.#deps.logger.info({ removed: id, index }, 'removed a server from the Raft configuration');
    return index;
  }

  async #transferAsLeader(target: NodeId | null, deadline: number): Promise<number> {
    const driver = this.#deps.driver;
    const chosen = target ?? this.#bestFollower();
    if (chosen === null) throw new RequestError(500, 'no other voter to transfer leadership to');
    const before = driver.status();
    try {
      driver.transferLeadership(chosen);
    } catch (err) {
      if (err instanceof RaftError && err.code === 'TRANSFER_INVALID')
        throw new RequestError(400, err.message);
      throw err;
    }
    this.#deps.logger.info({ target: chosen, term: before.term }, 'transferring leadership');
    while (performance.now() < deadline) {
      const now = driver.status();
      if (now.role !== 'leader' && now.leaderId !== 0) return now.commit;
      await this.#pause();
    }
    throw new RequestError(
      500,
      `leadership transfer to ${chosen} did not complete in time; check that server`,
    );
  }

  #bestFollower(): NodeId | null {
    const { voters } = this.#deps.driver.status().membership;
    const progress = this.#deps.driver.followerProgress().filter((follower) => voters.includes(follower.id));
    progress.sort((a, b) => b.match - a.match);
    return progress[0]?.id ?? null;
  }

  /**
   * Runs `local` when this server leads, or sends `frame` to the leader. Retries while no leader is
   * known or the leader changes, but only for failures where the request was certainly not
   * applied. Anything else (a timeout, say) is reported, because a retry could apply it twice.
   * Inside an HTTP write that passed the write barrier on this leader, only `local` runs, in the
   * barrier's term (see #onLeaderInTerm). `local` receives that term, or nothing.
   */
  async #onLeader(
    frame: Frame,
    local: (term?: number) => Promise<number>,
    deadline: number,
  ): Promise<number> {
    const writeTerm = this.#writeTerm.getStore();
    if (writeTerm !== undefined) return this.#onLeaderInTerm(local, writeTerm, deadline);
    const driver = this.#deps.driver;
    for (;;) {
      const status = driver.status();
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw new RequestError(500, NO_LEADER);
      if (status.role === 'leader') {
        try {
          return await withDeadline(local(), deadline);
        } catch (err) {
          if (err instanceof DeadlineError) {
            throw new RequestError(
              500,
              'timed out waiting for the commit; the outcome is unknown, read before retrying',
            );
          }
          if (!isRetryable(err)) throw toRequestError(err);
        }
      } else if (status.leaderId !== 0) {
        let answer: LeaderAnswer | null = null;
        try {
          answer = parseAnswer(await this.#deps.transport.request(status.leaderId, frame, remaining));
        } catch (err) {
          const code = (err as { code?: string }).code;
          // Only NOT_CONNECTED proves that the request never left. After a timeout or a closed
          // connection the leader may have appended it, so a retry could apply it twice.
          if (code === 'TIMEOUT' || code === 'CLOSED') {
            throw new RequestError(
              500,
              'lost contact with the leader while it handled the request; the outcome is unknown, read before retrying',
            );
          }
          if (code !== 'NOT_CONNECTED') throw toRequestError(err);
        }
        if (answer?.kind === 'done') return answer.index;
        if (answer?.kind === 'error') throw new RequestError(answer.status, answer.message);
      }
      await this.#pause();
    }
  }

  /** A removed server takes no part in the cluster, so it does not pass writes on either. */
  #refuseIfRemoved(): void {
    const { membership } = this.#deps.driver.status();
    if (membership.removed.includes(this.#deps.self().id)) {
      throw new RequestError(
        500,
        'this server was removed from the cluster; send requests to a member (signet operator raft list-peers)',
      );
    }
  }

  #memberId(id: string): NodeId {
    const nodeId = Number(id);
    const { membership } = this.#deps.driver.status();
    if (!/^[0-9]{1,15}$/.test(id)) {
      throw new RequestError(
        400,
        `invalid server id ${JSON.stringify(id.slice(0, 40))}: expected a decimal id as operator raft list-peers shows it`,
      );
    }
    if (![...membership.voters, ...membership.learners].includes(nodeId)) {
      throw new RequestError(
        400,
        `id ${JSON.stringify(id.slice(0, 40))} was not found in the Raft configuration`,
      );
    }
    return nodeId;
  }

  #addressOf(id: NodeId): string | null {
    const self = this.#deps.self();
    if (id === self.id) return self.rpcAddr;
    return this.#deps.directory.get(id)?.rpcAddr ?? this.state.server(id)?.rpcAddr ?? null;
  }

  #nameOf(id: NodeId): string {
    const self = this.#deps.self();
    if (id === self.id) return self.name;
    return this.#deps.directory.get(id)?.name ?? this.state.server(id)?.name ?? '(unknown)';
  }
}

function parseAnswer(frame: Frame): LeaderAnswer {
  if (frame.kind === 'done' && typeof frame.index === 'number') return { kind: 'done', index: frame.index };
  if (frame.kind === 'retry') return { kind: 'retry', reason: String(frame.reason) };
  if (frame.kind === 'error' && typeof frame.status === 'number' && typeof frame.message === 'string') {
    return { kind: 'error', status: frame.status, message: frame.message };
  }
  throw new RequestError(
    500,
    `the leader answered with an unexpected frame of kind ${String(frame.kind).slice(0, 40)}`,
  );
}

/** Failures after which the request was certainly not applied, so it may be sent again. */
function isRetryable(err: unknown): boolean {
  return (
    err instanceof RaftError &&
    (err.code === 'NOT_LEADER' ||
      err.code === 'TRANSFER_IN_PROGRESS' ||
      err.code === 'NO_LEADER' ||
      err.code === 'MEMBERSHIP_CHANGE_PENDING')
  );
}

function toRequestError(err: unknown): RequestError {
  if (err instanceof RequestError) return err;
  if (err instanceof RaftError) {
    const status = err.code === 'MEMBERSHIP_CHANGE_INVALID' || err.code === 'TRANSFER_INVALID' ? 400 : 500;
    return new RequestError(status, err.message);
  }
  return new RequestError(500, (err as Error).message ?? String(err));
}

class DeadlineError extends Error {}

function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  const remaining = Math.max(0, deadline - performance.now());
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError('deadline passed')), remaining);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

function splitAddress(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
