import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { createHttpServer, type HttpServerHandle } from '../../../src/http/server.js';
import {
  generateRootKey,
  type JsonWebKeySet,
  jwks,
  keyEncryptionKey,
  type RootKeyMeta,
  type SigningKey,
  SigningKeyCache,
  unwrapRootKey,
  wrapRootKey,
} from '../../../src/keyring/index.js';
import { AclOperations } from '../../../src/server/acl/acl-operations.js';
import { AclResolver, type ResolvedAcl } from '../../../src/server/acl/acl-resolver.js';
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
} from '../../../src/server/backend.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import { ServerMetrics } from '../../../src/server/metrics.js';
import { RequestError } from '../../../src/server/request-error.js';
import { VariableOperations } from '../../../src/server/variables/variable-operations.js';
import { type Command, encodeCommand, validateCommand } from '../../../src/state/commands.js';
import { CommandError } from '../../../src/state/errors.js';
import { StateStore, type StoredRootKey } from '../../../src/state/store.js';
import type { EvalTrigger, Evaluation } from '../../../src/structs/evaluation.js';
import type { Job } from '../../../src/structs/job.js';

/**
 * A single-server backend over a real StateStore: `apply` commits at once at the next index, so
 * HTTP tests see the same validation and apply results as a cluster, without Raft.
 */
export class TestBackend implements ServerBackend {
  readonly nodeName = 'test-1';
  readonly state = new StateStore();
  readonly metrics = new ServerMetrics('test-1');
  contact: LeaderContact = { knownLeader: true, lastContactMs: 0 };
  consistentReads = 0;
  writeBarriers = 0;
  /** When set, consistentRead rejects with it (for example a 500 "No cluster leader"). */
  consistentReadError: RequestError | null = null;
  /**
   * When set, consistentRead runs it once and clears it, standing in for the entries that a
   * lagging follower applies before its read index is reached.
   */
  catchUp: (() => Promise<void>) | null = null;
  /** When set, `self()` throws it, to test errors that are not RequestError. */
  selfError: Error | null = null;
  healthy = true;
  readonly removedPeers: string[] = [];
  readonly transfers: (string | null)[] = [];
  /**
   * Test stand-in for the scheduler. It is called with each evaluation that registerJob or
   * deregisterJob committed, once the HTTP reply is on its way, and may mark it complete or
   * place allocations. Its errors are collected in `schedulerErrors`.
   */
  scheduler: ((evaluation: Evaluation) => Promise<void>) | null = null;
  readonly schedulerErrors: unknown[] = [];
  servers: RaftServer[] = [
    { ID: '101', Node: 'test-1', Address: '127.0.0.1:4647', Leader: true, Voter: true, RaftProtocol: '3' },
    { ID: '102', Node: 'test-2', Address: '127.0.0.1:5647', Leader: false, Voter: true, RaftProtocol: '3' },
    { ID: '103', Node: 'test-3', Address: '127.0.0.1:6647', Leader: false, Voter: false, RaftProtocol: '3' },
  ];

  /** `server.oidc_issuer`; null turns OIDC discovery off, as it is by default. */
  issuer: string | null = null;
  /** Tokens that `authenticate` accepts, each with the principal it returns. */
  readonly principals = new Map<string, Principal>();
  readonly authenticatedTokens: string[] = [];
  readonly #kek = keyEncryptionKey(randomBytes(32));
  readonly #signingKeys = new SigningKeyCache();
  readonly #aclResolver: AclResolver;
  readonly acl: AclOperations;
  readonly variables: VariableOperations;
  /** Where `bootstrapAcl` reads the reset index, as a server reads `<data_dir>/server/acl-bootstrap-reset`; null for none. */
  bootstrapResetFile: string | null = null;
  /** Log lines of the ACL and variable writers, for checks that no secret is logged. */
  readonly operationLogLines: Record<string, unknown>[];
  /** Count of `var-apply` commands applied, so tests can tell a write that committed nothing. */
  variableApplies = 0;
  #lastKeyTime = 0;

  /** `aclEnabled` is the agent's `acl.enabled`: false (the default) resolves every request to allow-all. */
  constructor(options: { aclEnabled?: boolean } = {}) {
    // The tables start at index 1, as after a cluster's first (configuration) entry.
    this.state.advanceTo(1);
    this.#aclResolver = new AclResolver({
      state: this.state,
      enabled: options.aclEnabled ?? false,
      now: Date.now,
    });
    // The real writers over this backend's state, with a real keyring over the same cluster key.
    const { logger, lines } = captureLogger();
    this.operationLogLines = lines;
    const writes = {
      state: this.state,
      apply: (command: Command) => this.apply(command),
      consistentRead: () => this.consistentRead(),
      now: Date.now,
      logger,
    };
    const resetFile = (): string | null => this.bootstrapResetFile;
    this.acl = new AclOperations({
      ...writes,
      enabled: options.aclEnabled ?? false,
      // A getter, so that tests may set `bootstrapResetFile` after construction.
      get bootstrapResetFile() {
        return resetFile();
      },
    });
    this.variables = new VariableOperations({
      ...writes,
      keyring: new ServerKeyring({ state: this.state, kek: this.#kek, logger }),
    });
  }

  rootKeys(): RootKeyMeta[] {
    return this.state.rootKeys().map((row) => row.Meta);
  }

  async rotateRootKey(full: boolean): Promise<RootKeyRotateResult> {
    // Keys list oldest first by CreateTime, so two rotations in one millisecond still keep their order.
    // The step is 1 ms because nanosecond times near 2^60 are exact only to 256 ns in a double.
    this.#lastKeyTime = Math.max(nowNanos(), this.#lastKeyTime + 1_000_000);
    const { meta, material } = generateRootKey(this.#lastKeyTime);
    const wrapped = wrapRootKey(this.#kek, meta.KeyID, material);
    material.fill(0);
    const { index } = await this.apply({
      type: 'root-key-upsert',
      v: 1,
      key: { KeyID: meta.KeyID, Algorithm: meta.Algorithm, CreateTime: meta.CreateTime },
      wrappedKey: Buffer.from(wrapped).toString('base64'),
      demoteTo: full ? 'rekeying' : 'inactive',
    });
    return { Key: this.state.rootKey(meta.KeyID)!.Meta, Index: index };
  }

  async removeRootKey(keyId: string, force: boolean): Promise<{ Index: number }> {
    const { index } = await this.apply({ type: 'root-key-delete', v: 1, keyId, force });
    this.#signingKeys.delete(keyId);
    return { Index: index };
  }

  /** Derives the public keys from the wrapped keys in the state, as a server does. */
  async publicKeySet(): Promise<JsonWebKeySet> {
    const verifying = this.state.rootKeys().filter((row) => row.Meta.State !== 'deprecated');
    return jwks(verifying.map((row) => this.#signingKey(row)));
  }

  oidcIssuer(): string | null {
    return this.issuer;
  }

  /**
   * Accepts exactly the tokens in `principals`, as a server accepts the tokens that verify, and
   * records every token it is given in `authenticatedTokens`.
   */
  async authenticate(token: string): Promise<Principal> {
    this.authenticatedTokens.push(token);
    const principal = this.principals.get(token);
    if (principal === undefined) throw new RequestError(403, 'Permission denied');
    return principal;
  }

  /** Resolves ACLs from this backend's state as a server does, with the real resolver. */
  async resolveAcl(principal: Principal | null): Promise<ResolvedAcl> {
    await this.#aclResolver.prepare(principal);
    return this.#aclResolver.resolve(principal);
  }

  #signingKey(row: StoredRootKey): SigningKey {
    const material = unwrapRootKey(this.#kek, row.Meta.KeyID, Buffer.from(row.WrappedKey, 'base64'));
    try {
      return this.#signingKeys.get(row.Meta.KeyID, material);
    } finally {
      material.fill(0);
    }
  }

  async consistentRead(): Promise<void> {
    this.consistentReads++;
    await this.#confirm();
  }

  /** As a leader's write barrier, it stands for the state of the whole cluster, as consistentRead does. */
  async writeBarrier(): Promise<number | null> {
    this.writeBarriers++;
    await this.#confirm();
    return null;
  }

  withWriteTerm<T>(_term: number | null, run: () => Promise<T>): Promise<T> {
    return run();
  }

  async #confirm(): Promise<void> {
    if (this.consistentReadError !== null) throw this.consistentReadError;
    const catchUp = this.catchUp;
    this.catchUp = null;
    if (catchUp !== null) await catchUp();
  }

  /** Validates, then applies at the next index. Invalid commands are a 400, as a server's apply makes them. */
  async apply(command: Command): Promise<{ index: number }> {
    try {
      validateCommand(command);
    } catch (err) {
      if (err instanceof CommandError) throw new RequestError(400, err.message);
      throw err;
    }
    if (command.type === 'var-apply') this.variableApplies++;
    const index = this.state.latestIndex + 1;
    const result = this.state.apply(index, encodeCommand(command));
    if (!result.ok) throw new RequestError(result.status, result.message);
    return { index };
  }

  async registerJob(job: Job): Promise<JobRegisterResult> {
    const now = nowNanos();
    const submitted: Job = { ...job, SubmitTime: now };
    const evaluation = pendingEvaluation(submitted, 'job-register', now);
    const { index } = await this.apply({ type: 'job-register', v: 1, job: submitted, eval: evaluation });
    const stored = this.state.job(job.Namespace, job.ID);
    this.#runScheduler(evaluation.ID);
    return {
      EvalID: evaluation.ID,
      EvalCreateIndex: index,
      JobModifyIndex: stored?.JobModifyIndex ?? index,
      Index: index,
    };
  }

  async deregisterJob(namespace: string, jobId: string, purge: boolean): Promise<JobDeregisterResult> {
    const job = this.state.job(namespace, jobId);
    if (job === null) throw new RequestError(404, 'job not found');
    const now = nowNanos();
    const evaluation = pendingEvaluation(job, 'job-deregister', now);
    const { index } = await this.apply({
      type: 'job-deregister',
      v: 1,
      namespace,
      jobId,
      purge,
      eval: evaluation,
      time: now,
    });
    this.#runScheduler(evaluation.ID);
    return { EvalID: evaluation.ID, Index: index };
  }

  #runScheduler(evalId: string): void {
    const scheduler = this.scheduler;
    if (scheduler === null) return;
    setImmediate(() => {
      const evaluation = this.state.evaluation(evalId);
      if (evaluation === null) {
        this.schedulerErrors.push(new Error(`evaluation ${evalId} is not in the state`));
        return;
      }
      scheduler(evaluation).catch((err: unknown) => this.schedulerErrors.push(err));
    });
  }

  leaderContact(): LeaderContact {
    return this.contact;
  }

  leaderAddress(): string {
    return this.servers.find((server) => server.Leader)?.Address ?? '';
  }

  peers(): string[] {
    return this.servers.filter((server) => server.Voter).map((server) => server.Address);
  }

  raftConfiguration(): { Index: number; Servers: RaftServer[] } {
    return { Index: 7, Servers: this.servers };
  }

  /** Term and voters of the stand-in cluster in `servers`. */
  snapshotContext(): SnapshotContext {
    const voters = this.servers.filter((server) => server.Voter).map((server) => Number(server.ID));
    const learners = this.servers.filter((server) => !server.Voter).map((server) => Number(server.ID));
    return { term: 3, membership: { voters, learners, removed: [] } };
  }

  async removePeer(id: string): Promise<void> {
    if (!this.servers.some((server) => server.ID === id))
      throw new RequestError(404, `no server with ID ${id}`);
    this.removedPeers.push(id);
    this.servers = this.servers.filter((server) => server.ID !== id);
  }

  async transferLeadership(id: string | null): Promise<void> {
    this.transfers.push(id);
  }

  members(): AgentMember[] {
    return this.servers.map((server) => {
      const [host, port] = server.Address.split(':');
      return {
        Name: server.Node,
        Addr: host!,
        Port: Number(port),
        Status: 'alive',
        Tags: { build: '0.1.0' },
      };
    });
  }

  self(): Record<string, unknown> {
    if (this.selfError !== null) throw this.selfError;
    return { config: { NodeName: this.nodeName }, stats: { raft: { state: 'Leader' } } };
  }

  health(): { ok: boolean; message: string } {
    return this.healthy ? { ok: true, message: 'ok' } : { ok: false, message: 'no cluster leader' };
  }
}

function nowNanos(): number {
  return Date.now() * 1_000_000;
}

/** A new evaluation as a server creates it for a job change: pending, for the scheduler to take. */
function pendingEvaluation(job: Job, trigger: EvalTrigger, now: number): Evaluation {
  return {
    ID: randomUUID(),
    Namespace: job.Namespace,
    Priority: job.Priority,
    Type: job.Type,
    TriggeredBy: trigger,
    JobID: job.ID,
    JobModifyIndex: job.JobModifyIndex,
    NodeID: '',
    Status: 'pending',
    StatusDescription: '',
    BlockedEval: '',
    PreviousEval: '',
    QueuedAllocations: {},
    CreateIndex: 0,
    ModifyIndex: 0,
    CreateTime: now,
    ModifyTime: now,
  };
}

/** Creates a pino logger whose JSON lines are kept in `lines`, for assertions on logged fields. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export interface TestServer {
  readonly backend: TestBackend;
  readonly http: HttpServerHandle;
  readonly url: string;
  readonly logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the HTTP API on 127.0.0.1 with a free port over a fresh TestBackend, ACLs disabled unless `aclEnabled`. */
export async function startTestServer(
  options: { maxBodyBytes?: number; aclEnabled?: boolean } = {},
): Promise<TestServer> {
  const { aclEnabled, ...httpOptions } = options;
  const backend = new TestBackend({ aclEnabled });
  const { logger, lines } = captureLogger();
  const http = await createHttpServer({ backend, logger, host: '127.0.0.1', port: 0, ...httpOptions });
  return {
    backend,
    http,
    url: `http://127.0.0.1:${http.port}`,
    logLines: lines,
    close: async () => {
      await http.close();
      backend.metrics.close();
    },
  };
}

/** Polls `condition` until it is true or `timeoutMs` passes, then fails with `what`. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
