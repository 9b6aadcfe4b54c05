import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ClientRpc, ClientRpcError, type ClientRpcOptions } from '../../src/client/rpc-client.js';
import type { Allocation, TaskState } from '../../src/structs/allocation.js';

export interface SimulatedNodeOptions {
  /** Server RPC addresses (host:port). */
  readonly servers: readonly string[];
  readonly logger: Logger;
  readonly name: string;
  readonly datacenter?: string;
  /** Default 4000 MHz and 8192 MB. */
  readonly resources?: { readonly CPU: number; readonly MemoryMB: number };
  /** MaxQueryTime of the allocation watch, in ms. Default 30,000. */
  readonly maxQueryTimeMs?: number;
  /**
   * Time after which an allocation's tasks finish and it reports `complete`, in ms, or null to run
   * until stopped. Stands in for the mock driver's `run_for` of batch jobs: an allocation does not
   * carry its job. Default: run until stopped.
   */
  readonly completeAfterMs?: (alloc: Allocation) => number | null;
  /** Extra ClientRpc options, such as a short hold time in tests. */
  readonly rpc?: Partial<Omit<ClientRpcOptions, 'servers' | 'logger'>>;
}

/** Pause after a failed call before the loop tries again, in ms. */
const RETRY_MS = 250;

/**
 * One client node without tasks: it registers over its own ClientRpc (its own websocket),
 * heartbeats at the TTL the servers return, watches its allocations with Node.GetClientAllocs and
 * reports each one running, then complete after `completeAfterMs` or when the servers stop
 * it. Enough to drive scheduling tests and benchmarks with many nodes in one process.
 */
export class SimulatedNode {
  readonly id = randomUUID();
  readonly secretId = randomUUID();
  readonly name: string;
  readonly rpc: ClientRpc;
  /** TTL from the last register or heartbeat, in ms. */
  ttlMs = 0;
  heartbeats = 0;
  /** Calls that failed, by method, counting each retry. */
  readonly failures = new Map<string, number>();
  /** Client status reported for each allocation, by ID. */
  readonly reported = new Map<string, Allocation['ClientStatus']>();
  readonly #options: SimulatedNodeOptions;
  readonly #abort = new AbortController();
  /** AllocModifyIndex last fetched, by allocation ID. */
  readonly #seen = new Map<string, number>();
  readonly #completions = new Map<string, NodeJS.Timeout>();
  readonly #queued = new Map<string, Record<string, unknown>>();
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #watch: Promise<void> | null = null;
  #registered: Promise<void> | null = null;
  #stopped = false;

  constructor(options: SimulatedNodeOptions) {
    this.#options = options;
    this.name = options.name;
    this.rpc = new ClientRpc({ servers: options.servers, logger: options.logger, ...options.rpc });
  }

  /** Registers the node (retrying until it succeeds or the node stops), then starts its loops. */
  async start(): Promise<void> {
    await this.#register();
    this.#scheduleHeartbeat();
    this.#watch = this.#watchAllocs();
  }

  /** Stops the loops and closes the connection; the servers will miss its heartbeats. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    for (const timer of this.#completions.values()) clearTimeout(timer);
    this.rpc.close();
    await this.#watch;
  }

  #register(): Promise<void> {
    this.#registered ??= this.#registerUntilDone().finally(() => {
      this.#registered = null;
    });
    return this.#registered;
  }

  async #registerUntilDone(): Promise<void> {
    const node = {
      ID: this.id,
      SecretID: this.secretId,
      Name: this.name,
      Datacenter: this.#options.datacenter ?? 'dc1',
      NodeClass: '',
      NodeResources: this.#options.resources ?? { CPU: 4000, MemoryMB: 8192 },
      Drivers: { mock: { Detected: true, Healthy: true } },
      Attributes: { 'kernel.name': 'linux', 'driver.mock': '1' },
    };
    while (!this.#stopped) {
      try {
        const response = await this.rpc.call<{ HeartbeatTTL: number }>('Node.Register', { Node: node });
        this.ttlMs = response.HeartbeatTTL;
        return;
      } catch (err) {
        await this.#failed('Node.Register', err);
      }
    }
  }

  #scheduleHeartbeat(): void {
    if (this.#stopped) return;
    this.#heartbeatTimer = setTimeout(() => void this.#heartbeat(), this.ttlMs);
  }

  async #heartbeat(): Promise<void> {
    try {
      const response = await this.rpc.call<{ HeartbeatTTL: number }>('Node.UpdateStatus', {
        NodeID: this.id,
        SecretID: this.secretId,
        Status: 'ready',
      });
      this.ttlMs = response.HeartbeatTTL;
      this.heartbeats++;
      this.#scheduleHeartbeat();
    } catch (err) {
      await this.#failed('Node.UpdateStatus', err);
      if (this.#stopped) return;
      // Retry soon, well inside the grace period, rather than after a whole TTL.
      this.#heartbeatTimer = setTimeout(() => void this.#heartbeat(), RETRY_MS);
    }
  }

  async #watchAllocs(): Promise<void> {
    const maxQueryTimeMs = this.#options.maxQueryTimeMs ?? 30_000;
    let index = 0;
    while (!this.#stopped) {
      try {
        const response = await this.rpc.call<{ Allocs: Record<string, number>; Index: number }>(
          'Node.GetClientAllocs',
          { NodeID: this.id, SecretID: this.secretId, MinQueryIndex: index, MaxQueryTime: maxQueryTimeMs },
          // The server may add up to 1/16 of jitter to the wait.
          { timeoutMs: maxQueryTimeMs * 1.1 + 5000, signal: this.#abort.signal },
        );
        const changed = Object.entries(response.Allocs).filter(
          ([id, modify]) => this.#seen.get(id) !== modify,
        );
        if (changed.length > 0) await this.#fetch(changed);
        // Only after the fetch: a failed fetch must be repeated, not skipped by a later index.
        index = response.Index;
        await this.#flush();
      } catch (err) {
        await this.#failed('Node.GetClientAllocs', err);
      }
    }
  }

  async #fetch(changed: [string, number][]): Promise<void> {
    const minIndex = Math.max(...changed.map(([, modify]) => modify)) - 1;
    const response = await this.rpc.call<{ Allocs: Allocation[] }>(
      'Alloc.GetAllocs',
      {
        NodeID: this.id,
        SecretID: this.secretId,
        AllocIDs: changed.map(([id]) => id),
        MinQueryIndex: minIndex,
      },
      { signal: this.#abort.signal },
    );
    for (const alloc of response.Allocs) {
      this.#seen.set(alloc.ID, alloc.AllocModifyIndex);
      this.#reconcile(alloc);
    }
  }

  /** Decides what the node reports for an allocation the servers changed. */
  #reconcile(alloc: Allocation): void {
    const reported = this.reported.get(alloc.ID);
    const finished = reported === 'complete' || reported === 'failed';
    if (alloc.DesiredStatus === 'run' && reported === undefined) {
      this.#report(alloc, 'running');
      const after = this.#options.completeAfterMs?.(alloc) ?? null;
      if (after !== null) {
        const timer = setTimeout(() => {
          this.#completions.delete(alloc.ID);
          this.#report(alloc, 'complete');
          void this.#flush();
        }, after);
        this.#completions.set(alloc.ID, timer);
      }
    } else if (alloc.DesiredStatus !== 'run' && !finished) {
      clearTimeout(this.#completions.get(alloc.ID));
      this.#completions.delete(alloc.ID);
      this.#report(alloc, 'complete');
    }
  }

  #report(alloc: Allocation, status: 'running' | 'complete'): void {
    this.reported.set(alloc.ID, status);
    const now = new Date();
    const taskStates: Record<string, TaskState> = {};
    for (const task of Object.keys(alloc.TaskResources)) {
      taskStates[task] = {
        State: status === 'running' ? 'running' : 'dead',
        Failed: false,
        Restarts: 0,
        StartedAt: now.toISOString(),
        FinishedAt: status === 'running' ? '' : now.toISOString(),
        Events: [
          {
            Type: status === 'running' ? 'Started' : 'Terminated',
            Time: now.getTime() * 1_000_000,
            DisplayMessage: status === 'running' ? 'Task started by client' : 'Exit Code: 0',
            ExitCode: 0,
          },
        ],
      };
    }
    this.#queued.set(alloc.ID, {
      ID: alloc.ID,
      ClientStatus: status,
      ClientDescription: status === 'running' ? 'Tasks are running' : 'All tasks have completed',
      TaskStates: taskStates,
    });
  }

  /** Sends the queued reports in one Alloc.UpdateAlloc; on failure they stay queued for the next flush. */
  async #flush(): Promise<void> {
    if (this.#queued.size === 0 || this.#stopped) return;
    const updates = [...this.#queued.values()];
    this.#queued.clear();
    try {
      await this.rpc.call('Alloc.UpdateAlloc', { NodeID: this.id, SecretID: this.secretId, Allocs: updates });
    } catch (err) {
      for (const update of updates)
        if (!this.#queued.has(update.ID as string)) this.#queued.set(update.ID as string, update);
      await this.#failed('Alloc.UpdateAlloc', err);
    }
  }

  /** Counts a failed call, re-registers when the servers forgot the node, and pauses before the retry. */
  async #failed(method: string, err: unknown): Promise<void> {
    if (this.#stopped) return;
    this.failures.set(method, (this.failures.get(method) ?? 0) + 1);
    if (err instanceof ClientRpcError && err.code === 'REMOTE' && err.status === 404) {
      await this.#register();
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
}

export interface SimulatedFleetOptions extends Omit<SimulatedNodeOptions, 'name'> {
  readonly count: number;
  /** Node names are PREFIX-0, PREFIX-1...; default `sim`. */
  readonly namePrefix?: string;
}

/** Many simulated nodes in one process, each with its own connection. */
export class SimulatedFleet {
  readonly nodes: readonly SimulatedNode[];

  private constructor(nodes: SimulatedNode[]) {
    this.nodes = nodes;
  }

  /** Starts `count` nodes at once and resolves when every one has registered. */
  static async start(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
    const { count, namePrefix = 'sim', ...nodeOptions } = options;
    const nodes = Array.from(
      { length: count },
      (_, i) => new SimulatedNode({ ...nodeOptions, name: `${namePrefix}-${i}` }),
    );
    const fleet = new SimulatedFleet(nodes);
    await Promise.all(nodes.map((node) => node.start()));
    return fleet;
  }

  /** Allocations reported with each client status, over every node. */
  reportedStatuses(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const node of this.nodes) {
      for (const status of node.reported.values()) counts[status] = (counts[status] ?? 0) + 1;
    }
    return counts;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}
