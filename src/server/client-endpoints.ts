import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClientRequestContext } from '../rpc/client-channel.js';
import { type Command, validateCommand } from '../state/commands.js';
import { CommandError } from '../state/errors.js';
import { MAX_CLIENT_UPDATES } from '../state/limits.js';
import { NODE_STATUSES } from '../state/node-fields.js';
import type { StateStore } from '../state/store.js';
import { type Allocation, isTerminal } from '../structs/allocation.js';
import type { EvalTrigger, Evaluation } from '../structs/evaluation.js';
import type { Job } from '../structs/job.js';
import type { DriverInfo, Node, NodeStatus } from '../structs/node.js';
import { ClientVariables, type ClientVariablesBackend, type VariablesQuery } from './client-variables.js';
import { RequestError } from './request-error.js';

/**
 * Blocking query limits of the client methods, with Nomad's values (nomad/structs). A query waits
 * 300 s when it names no MaxQueryTime, and never longer than 300 s. A random jitter of up to 1/16
 * of the wait is added, so clients that started together do not all return together.
 */
export const CLIENT_BLOCKING_DEFAULTS = Object.freeze({
  defaultMaxQueryTimeMs: 300_000,
  maxMaxQueryTimeMs: 300_000,
  jitterFraction: 16,
});

/** Description that a node marked down for a missed heartbeat carries, in Nomad's words. */
export const HEARTBEAT_MISSED = 'Node heartbeat missed';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PERMISSION_DENIED = 'Permission denied';

/** Services that the client endpoints use from the server that hosts them. */
export interface ClientEndpointsDeps {
  /** This server's copy of the replicated state. */
  readonly state: StateStore;
  /** Commits a command through the leader (forwarded when this server follows) and applies it here. */
  apply(command: Command): Promise<{ index: number }>;
  /** Resolves once this server has applied everything committed when the call was made. */
  consistentRead(): Promise<void>;
  /** RPC addresses (host:port) of the servers, which clients add to their failover list. */
  servers(): string[];
  /**
   * Resets the node's heartbeat timer on the leader, forwarded when this server follows, and
   * returns the TTL to hand to the client, in ms (`Heartbeats.heartbeat` on the leader).
   */
  heartbeat(nodeId: string): Promise<number>;
  /** Returns a new UUID for an evaluation. */
  newId(): string;
  /** Unix time in ms. */
  now(): number;
  /** Uniform in [0, 1); draws the blocking query jitter. Default Math.random. */
  random?(): number;
  /**
   * Identity verification, ACL resolution and variable reads, for `Variables.Read` and
   * `Variables.List`. Without it those methods are not served (404, as an unknown method).
   */
  readonly variables?: ClientVariablesBackend;
  readonly logger: Logger;
}

type Body = Readonly<Record<string, unknown>>;
type Method = (body: Body, context: ClientRequestContext) => Promise<unknown>;

/**
 * The RPC methods that client agents call, with Nomad's names and field names. Every method after
 * Node.Register authenticates the node by its SecretID. Any server serves them: writes reach the
 * leader through `apply`, and heartbeats through `heartbeat`. Failures throw RequestError with
 * Nomad's status and wording.
 */
export class ClientEndpoints {
  readonly #deps: ClientEndpointsDeps;
  readonly #methods: ReadonlyMap<string, Method>;

  constructor(deps: ClientEndpointsDeps) {
    this.#deps = deps;
    const methods = new Map<string, Method>([
      ['Node.Register', (body) => this.#register(body)],
      ['Node.UpdateStatus', (body) => this.#updateStatus(body)],
      ['Node.GetClientAllocs', (body, context) => this.#getClientAllocs(body, context.signal)],
      ['Alloc.GetAllocs', (body, context) => this.#getAllocs(body, context.signal)],
      ['Alloc.UpdateAlloc', (body) => this.#updateAlloc(body)],
    ]);
    if (deps.variables !== undefined) {
      const variables = new ClientVariables({
        state: deps.state,
        backend: deps.variables,
        consistentRead: () => deps.consistentRead(),
        logger: deps.logger,
      });
      methods.set('Variables.Read', async (body, context) =>
        variables.read(body, await this.#authenticate(body), this.#variablesQuery(body, context.signal)),
      );
      methods.set('Variables.List', async (body, context) =>
        variables.list(body, await this.#authenticate(body), this.#variablesQuery(body, context.signal)),
      );
    }
    this.#methods = methods;
  }

  /** Serves one request; the transport's `onClientRequest`. */
  async handle(method: string, body: Body, context: ClientRequestContext): Promise<unknown> {
    const serve = this.#methods.get(method);
    if (serve === undefined) throw new RequestError(404, `rpc: can't find method ${method}`);
    try {
      return await serve(body, context);
    } catch (err) {
      if (err instanceof CommandError) throw new RequestError(400, err.message);
      throw err;
    }
  }

  /**
   * Marks a node down after its heartbeat timer ran out, with an evaluation for every job that has
   * allocations on it that are not terminal, so the scheduler replaces them. Does nothing for a
   * node that is unknown or already down. The leader's `Heartbeats.onExpired`.
   */
  async expireNode(nodeId: string): Promise<void> {
    const node = this.#deps.state.node(nodeId);
    if (node === null || node.Status === 'down') return;
    const evals = this.#nodeEvals(nodeId);
    const { index } = await this.#apply({
      type: 'node-status',
      v: 1,
      nodeId,
      status: 'down',
      description: HEARTBEAT_MISSED,
      time: this.#nowNs(),
      evals,
    });
    await this.#evaluateLatePlacements(nodeId, evals);
    this.#deps.logger.info(
      { nodeId, index, evals: evals.map((evaluation) => evaluation.ID) },
      'marked node down after a missed heartbeat',
    );
  }

  /**
   * A plan checked while the node was still ready may have placed allocations on it just before the
   * status entry. No plan is accepted on a down node afterwards, so one more look after the entry
   * is applied finds every job still running there that has no evaluation yet.
   */
  async #evaluateLatePlacements(nodeId: string, done: readonly Evaluation[]): Promise<void> {
    const covered = new Set(done.map((evaluation) => `${evaluation.Namespace}\u0000${evaluation.JobID}`));
    const late = this.#nodeEvals(nodeId).filter(
      (evaluation) => !covered.has(`${evaluation.Namespace}\u0000${evaluation.JobID}`),
    );
    if (late.length > 0) await this.#apply({ type: 'eval-upsert', v: 1, evals: late });
  }

  async #register(body: Body): Promise<unknown> {
    const input = readRegistration(body.Node);
    const existing = this.#deps.state.node(input.ID);
    if (existing !== null && !secretsEqual(existing.SecretID, input.SecretID)) {
      throw new RequestError(403, 'node secret ID does not match. Not registering node.');
    }
    const node: Node = {
      ...input,
      Status: 'ready',
      StatusDescription: '',
      // A re-registration keeps the eligibility that an operator set, as in Nomad.
      SchedulingEligibility: existing?.SchedulingEligibility ?? 'eligible',
      StatusUpdatedAt: Math.floor(this.#deps.now() / 1000),
      CreateIndex: 0,
      ModifyIndex: 0,
    };
    const { index } = await this.#apply({ type: 'node-register', v: 1, node });
    const ttl = await this.#deps.heartbeat(node.ID);
    if (existing === null) {
      this.#deps.logger.info({ nodeId: node.ID, name: node.Name, index }, 'client node registered');
    }
    return { HeartbeatTTL: ttl, Index: index, Servers: this.#deps.servers() };
  }

  async #updateStatus(body: Body): Promise<unknown> {
    const node = await this.#authenticate(body);
    const status = body.Status;
    if (typeof status !== 'string' || !(NODE_STATUSES as readonly string[]).includes(status)) {
      throw new RequestError(400, `invalid status for node: ${JSON.stringify(String(status).slice(0, 40))}`);
    }
    let index = this.#deps.state.tableIndex('nodes');
    if (node.Status !== status) {
      ({ index } = await this.#apply({
        type: 'node-status',
        v: 1,
        nodeId: node.ID,
        status: status as NodeStatus,
        description: '',
        time: this.#nowNs(),
        evals: this.#nodeEvals(node.ID),
      }));
      this.#deps.logger.info(
        { nodeId: node.ID, from: node.Status, to: status, index },
        'node status changed',
      );
    }
    // A node that reports itself down gets no timer; its old one finds it down and does nothing.
    const ttl = status === 'down' ? 0 : await this.#deps.heartbeat(node.ID);
    return { HeartbeatTTL: ttl, Index: index, Servers: this.#deps.servers() };
  }

  /**
   * Returns `allocID → AllocModifyIndex` for the node's allocations once they changed past
   * MinQueryIndex, or when MaxQueryTime runs out. Its Index is the highest AllocModifyIndex among
   * them (at least the node's CreateIndex), so the query wakes for changes on this node only, not
   * for every change of the allocation table.
   */
  async #getClientAllocs(body: Body, signal: AbortSignal): Promise<unknown> {
    const node = await this.#authenticate(body);
    const minIndex = readQueryIndex(body.MinQueryIndex);
    // The first query of a client is consistent; later ones may be served from this server's state.
    if (minIndex === 0) await this.#deps.consistentRead();
    const state = this.#deps.state;
    const deadline = this.#blockingSignal(body.MaxQueryTime, signal);
    for (;;) {
      const tableIndex = state.tableIndex('allocs');
      const allocs: Record<string, number> = {};
      let index = Math.max(1, node.CreateIndex);
      for (const alloc of state.allocationsByNode(node.ID)) {
        allocs[alloc.ID] = alloc.AllocModifyIndex;
        index = Math.max(index, alloc.AllocModifyIndex);
      }
      if (index > minIndex || deadline.signal.aborted) {
        deadline.dispose();
        return { Allocs: allocs, Index: index };
      }
      await state.waitForChange('allocs', tableIndex, deadline.signal);
    }
  }

  /**
   * Returns the named allocations of the node once this server's allocation table is past
   * MinQueryIndex, so a client never reads an allocation older than the index that reported the
   * change. IDs that do not exist are left out. An allocation of another node fails the whole
   * request (403) before anything is returned, because each allocation carries its tasks' workload
   * identity tokens (SignedIdentities), which only the node that runs it may read. Each allocation
   * carries its `Job` (null once purged), as in Nomad, because the client runs the tasks from the
   * job's spec.
   */
  async #getAllocs(body: Body, signal: AbortSignal): Promise<unknown> {
    const node = await this.#authenticate(body);
    const ids = readIdList(body.AllocIDs, 'AllocIDs');
    const minIndex = readQueryIndex(body.MinQueryIndex);
    const state = this.#deps.state;
    if (state.tableIndex('allocs') <= minIndex) {
      const deadline = this.#blockingSignal(body.MaxQueryTime, signal);
      await state.waitForChange('allocs', minIndex, deadline.signal);
      deadline.dispose();
    }
    const allocs: (Allocation & { Job: Job | null })[] = [];
    for (const id of ids) {
      const alloc = state.allocation(id);
      if (alloc === null) continue;
      if (alloc.NodeID !== node.ID) throw new RequestError(403, PERMISSION_DENIED);
      // NOTE: the state keeps only the newest version of a job, so an allocation of an older
      // version gets the newer spec. Nomad stores the job in each allocation instead.
      allocs.push({ ...alloc, Job: state.job(alloc.Namespace, alloc.JobID) });
    }
    return { Allocs: allocs, Index: state.tableIndex('allocs') };
  }

  /**
   * Records the client status of the node's allocations. Updates for unknown allocations are
   * dropped, as Nomad does; an allocation of another node fails the whole request. An allocation
   * that newly failed gets its job an `alloc-failure` evaluation in the same entry.
   */
  async #updateAlloc(body: Body): Promise<unknown> {
    const node = await this.#authenticate(body);
    const items = body.Allocs;
    if (!Array.isArray(items))
      throw new RequestError(400, 'missing allocations to update: Allocs must be a list');
    if (items.length > MAX_CLIENT_UPDATES) {
      throw new RequestError(
        400,
        `too many allocation updates: ${items.length}, above the limit of ${MAX_CLIENT_UPDATES}`,
      );
    }
    const state = this.#deps.state;
    const updates: Record<string, unknown>[] = [];
    const failedJobs = new Map<string, Allocation>();
    let caughtUp = false;
    for (const item of items) {
      if (!isMap(item) || typeof item.ID !== 'string') {
        throw new RequestError(400, 'invalid allocation update: each item must be a map with a string ID');
      }
      let alloc = state.allocation(item.ID);
      if (alloc === null && !caughtUp) {
        caughtUp = true;
        // This server may lag the one that placed the allocation: look again after catching up,
        // rather than drop the client's report.
        await this.#deps.consistentRead();
        alloc = state.allocation(item.ID);
      }
      if (alloc === null) continue;
      if (alloc.NodeID !== node.ID) throw new RequestError(403, PERMISSION_DENIED);
      updates.push({
        ID: item.ID,
        ClientStatus: item.ClientStatus,
        ClientDescription: item.ClientDescription ?? '',
        TaskStates: item.TaskStates ?? {},
      });
      if (item.ClientStatus === 'failed' && alloc.ClientStatus !== 'failed') {
        failedJobs.set(`${alloc.Namespace}\u0000${alloc.JobID}`, alloc);
      }
    }
    if (updates.length === 0) return { Index: state.tableIndex('allocs') };
    const evals: Evaluation[] = [];
    for (const alloc of failedJobs.values()) {
      const evaluation = this.#jobEval(alloc, 'alloc-failure', '');
      if (evaluation !== null) evals.push(evaluation);
    }
    // NOTE: each request is its own Raft entry. Nomad batches client updates for 50 ms on the
    // leader, which matters once many clients report at the same moment.
    const { index } = await this.#apply({
      type: 'alloc-client-update',
      v: 1,
      updates: updates as unknown as Extract<Command, { type: 'alloc-client-update' }>['updates'],
      evals,
      time: this.#nowNs(),
    });
    return { Index: index };
  }

  /**
   * Returns the node that the request names once its SecretID matches. A node missing here may have
   * registered through a server that this one lags behind, so a consistent read comes before 404.
   */
  async #authenticate(body: Body): Promise<Node> {
    const nodeId = body.NodeID;
    if (typeof nodeId !== 'string' || nodeId === '') throw new RequestError(400, 'missing node ID');
    const secretId = body.SecretID;
    let node = this.#deps.state.node(nodeId);
    if (node === null) {
      await this.#deps.consistentRead();
      node = this.#deps.state.node(nodeId);
    }
    if (node === null) throw new RequestError(404, 'node not found');
    if (typeof secretId !== 'string' || !secretsEqual(node.SecretID, secretId)) {
      throw new RequestError(403, PERMISSION_DENIED);
    }
    return node;
  }

  /**
   * The blocking part of a variable read: it waits for the variables table to pass MinQueryIndex,
   * so a template watch wakes on any variable change and compares its own output.
   */
  #variablesQuery(body: Body, connection: AbortSignal): VariablesQuery {
    const minIndex = readQueryIndex(body.MinQueryIndex);
    const state = this.#deps.state;
    return {
      minIndex,
      wait: async () => {
        if (minIndex === 0 || state.tableIndex('variables') > minIndex) return;
        const deadline = this.#blockingSignal(body.MaxQueryTime, connection);
        try {
          await state.waitForChange('variables', minIndex, deadline.signal);
        } finally {
          deadline.dispose();
        }
      },
    };
  }

  /** One `node-update` evaluation for every job with allocations on the node that are not terminal. */
  #nodeEvals(nodeId: string): Evaluation[] {
    const jobs = new Map<string, Allocation>();
    for (const alloc of this.#deps.state.allocationsByNode(nodeId)) {
      if (!isTerminal(alloc)) jobs.set(`${alloc.Namespace}\u0000${alloc.JobID}`, alloc);
    }
    const evals: Evaluation[] = [];
    for (const alloc of jobs.values()) {
      const evaluation = this.#jobEval(alloc, 'node-update', nodeId);
      if (evaluation !== null) evals.push(evaluation);
    }
    return evals;
  }

  /** A pending evaluation of the allocation's job, or null when the job no longer exists. */
  #jobEval(alloc: Allocation, trigger: EvalTrigger, nodeId: string): Evaluation | null {
    const job = this.#deps.state.job(alloc.Namespace, alloc.JobID);
    if (job === null) return null;
    const time = this.#nowNs();
    return {
      ID: this.#deps.newId(),
      Namespace: job.Namespace,
      Priority: job.Priority,
      Type: job.Type,
      TriggeredBy: trigger,
      JobID: job.ID,
      JobModifyIndex: job.JobModifyIndex,
      NodeID: nodeId,
      Status: 'pending',
      StatusDescription: '',
      BlockedEval: '',
      PreviousEval: '',
      QueuedAllocations: {},
      CreateIndex: 0,
      ModifyIndex: 0,
      CreateTime: time,
      ModifyTime: time,
    };
  }

  /** Checks the command as the state will, so bad input fails with 400 whatever `apply` does. */
  #apply(command: Command): Promise<{ index: number }> {
    return this.#deps.apply(validateCommand(command));
  }

  #nowNs(): number {
    return Math.round(this.#deps.now()) * 1_000_000;
  }

  /** A signal that aborts when the request's connection closes or its MaxQueryTime (with jitter) passes. */
  #blockingSignal(value: unknown, connection: AbortSignal): { signal: AbortSignal; dispose(): void } {
    const { defaultMaxQueryTimeMs, maxMaxQueryTimeMs, jitterFraction } = CLIENT_BLOCKING_DEFAULTS;
    let wait: number = defaultMaxQueryTimeMs;
    if (value !== undefined && value !== 0) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new RequestError(400, 'invalid MaxQueryTime: must be a non-negative number of milliseconds');
      }
      wait = Math.min(value, maxMaxQueryTimeMs);
    }
    wait += Math.floor((this.#deps.random?.() ?? Math.random()) * (wait / jitterFraction));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), wait);
    const onClose = (): void => controller.abort();
    connection.addEventListener('abort', onClose, { once: true });
    if (connection.aborted) controller.abort();
    return {
      signal: controller.signal,
      dispose: () => {
        clearTimeout(timer);
        connection.removeEventListener('abort', onClose);
      },
    };
  }
}

/** Compares two secrets in time that does not depend on where they differ. */
function secretsEqual(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readQueryIndex(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RequestError(400, 'invalid MinQueryIndex: must be a non-negative integer');
  }
  return value;
}

function readIdList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw new RequestError(400, `invalid ${field}: must be a list of allocation IDs`);
  }
  if (value.length > MAX_CLIENT_UPDATES) {
    throw new RequestError(
      400,
      `too many ${field}: ${value.length}, above the limit of ${MAX_CLIENT_UPDATES}`,
    );
  }
  return value as string[];
}

type Registration = Pick<
  Node,
  'ID' | 'SecretID' | 'Name' | 'Datacenter' | 'NodeClass' | 'NodeResources' | 'Drivers' | 'Attributes'
>;

/**
 * Checks the node of a Node.Register request, with Nomad's messages where Nomad has one. The
 * state's own checks (lengths, map sizes) run afterwards, in `validateCommand`.
 */
function readRegistration(value: unknown): Registration {
  const missing = (what: string): RequestError =>
    new RequestError(400, `missing ${what} for client registration`);
  if (!isMap(value)) throw missing('node');
  if (value.ID === undefined || value.ID === '') throw missing('node ID');
  if (typeof value.ID !== 'string' || !UUID_PATTERN.test(value.ID)) {
    throw new RequestError(
      400,
      `invalid node ID for client registration: must be a UUID, got ${JSON.stringify(String(value.ID).slice(0, 64))}`,
    );
  }
  if (value.SecretID === undefined || value.SecretID === '') throw missing('node secret ID');
  // The value is a secret, so the message never repeats it.
  if (typeof value.SecretID !== 'string' || !UUID_PATTERN.test(value.SecretID)) {
    throw new RequestError(400, 'invalid node secret ID for client registration: must be a UUID');
  }
  if (typeof value.Name !== 'string' || value.Name === '') throw missing('node name');
  if (typeof value.Datacenter !== 'string' || value.Datacenter === '') throw missing('datacenter');
  if (value.NodeClass !== undefined && typeof value.NodeClass !== 'string') {
    throw new RequestError(400, 'invalid node class for client registration: must be a string');
  }
  return {
    ID: value.ID,
    SecretID: value.SecretID,
    Name: value.Name,
    Datacenter: value.Datacenter,
    NodeClass: value.NodeClass ?? '',
    NodeResources: readNodeResources(value.NodeResources),
    Drivers: readDrivers(value.Drivers),
    Attributes: readAttributes(value.Attributes),
  };
}

function readNodeResources(value: unknown): Node['NodeResources'] {
  if (!isMap(value)) throw new RequestError(400, 'missing node resources for client registration');
  for (const field of ['CPU', 'MemoryMB'] as const) {
    const amount = value[field];
    if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
      throw new RequestError(
        400,
        `invalid node resources for client registration: ${field} must be a positive integer, got ${JSON.stringify(amount ?? null)}`,
      );
    }
  }
  return { CPU: value.CPU as number, MemoryMB: value.MemoryMB as number };
}

function readDrivers(value: unknown): Record<string, DriverInfo> {
  if (value === undefined) return {};
  if (!isMap(value)) throw new RequestError(400, 'invalid drivers for client registration: must be a map');
  const drivers: Record<string, DriverInfo> = {};
  for (const [name, info] of Object.entries(value)) {
    if (!isMap(info) || typeof info.Detected !== 'boolean' || typeof info.Healthy !== 'boolean') {
      throw new RequestError(
        400,
        `invalid driver ${JSON.stringify(name.slice(0, 64))} for client registration: expected {Detected, Healthy} booleans`,
      );
    }
    drivers[name] = { Detected: info.Detected, Healthy: info.Healthy };
  }
  return drivers;
}

function readAttributes(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isMap(value) || !Object.values(value).every((text) => typeof text === 'string')) {
    throw new RequestError(400, 'invalid attributes for client registration: must be a map of strings');
  }
  return { ...(value as Record<string, string>) };
}
