import type { Logger } from 'pino';
import type { AgentConfig } from '../server/agent-config.js';
import { isTerminal } from '../structs/allocation.js';
import type { DriverInfo } from '../structs/node.js';
import { AllocRunner } from './alloc-runner.js';
import { AllocStatusReporter } from './alloc-status-reporter.js';
import { type AllocChanges, AllocWatcher } from './alloc-watcher.js';
import type { ClientAllocation } from './client-allocation.js';
import { ClientDataDirLock } from './data-dir-lock.js';
import { clientDrivers } from './driver-catalog.js';
import type { TaskDriver } from './drivers/driver.js';
import { LocalStateStore } from './local-state.js';
import { fingerprintNode } from './node-fingerprint.js';
import { clientPaths, loadOrCreateNodeIdentity, type NodeIdentity } from './node-identity.js';
import { NodeRegistrar, type NodeRegistration } from './node-registration.js';
import { ClientRpc, type ClientRpcOptions } from './rpc-client.js';

export interface ClientAgentOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Extra ClientRpc options, such as a short hold time in tests. */
  readonly rpc?: Partial<Omit<ClientRpcOptions, 'servers' | 'logger'>>;
  /** MaxQueryTime of the allocation watch, in ms. Default 60,000. */
  readonly maxQueryTimeMs?: number;
}

/** Time that close() gives the last status reports to reach the servers, in ms. */
const CLOSE_REPORT_TIMEOUT_MS = 2000;

/**
 * A client agent, as Nomad's client: it keeps a node identity in its data folder, registers the
 * node with the servers and heartbeats, watches the node's allocations, runs each with an
 * AllocRunner and reports their status back.
 *
 * Start order: the local state is read and every allocation that this client ran is restored
 * first, re-attaching to its tasks through the drivers, so that the watch never starts an
 * allocation that already runs. Then the node registers, and the watch starts once it has.
 *
 * Closing (SIGINT or SIGTERM) stops the loops and the heartbeats but leaves the tasks running,
 * as Nomad's client does: the next start of the agent with the same data folder re-attaches to
 * them. The servers mark the node down if it stays away past its heartbeat TTL and grace.
 */
export class ClientAgent {
  readonly identity: NodeIdentity;
  readonly node: NodeRegistration;
  readonly #logger: Logger;
  readonly #rpc: ClientRpc;
  readonly #store: LocalStateStore;
  readonly #registrar: NodeRegistrar;
  readonly #reporter: AllocStatusReporter;
  readonly #watcher: AllocWatcher;
  readonly #drivers: ReadonlyMap<string, TaskDriver>;
  readonly #dataDir: string;
  readonly #lock: ClientDataDirLock;
  /** Every allocation this client runs or ran and still keeps state for, by ID. */
  readonly #runners = new Map<string, AllocRunner>();
  /** Allocations whose local state could not be read: never started again, reported failed. */
  readonly #unrecoverable = new Map<string, string>();
  #closing: Promise<void> | null = null;

  private constructor(parts: {
    identity: NodeIdentity;
    node: NodeRegistration;
    logger: Logger;
    rpc: ClientRpc;
    store: LocalStateStore;
    drivers: ReadonlyMap<string, TaskDriver>;
    dataDir: string;
    lock: ClientDataDirLock;
    maxQueryTimeMs: number | undefined;
  }) {
    this.identity = parts.identity;
    this.node = parts.node;
    this.#logger = parts.logger;
    this.#rpc = parts.rpc;
    this.#store = parts.store;
    this.#drivers = parts.drivers;
    this.#dataDir = parts.dataDir;
    this.#lock = parts.lock;
    this.#registrar = new NodeRegistrar({ rpc: parts.rpc, node: parts.node, logger: parts.logger });
    this.#reporter = new AllocStatusReporter({
      rpc: parts.rpc,
      identity: parts.identity,
      logger: parts.logger,
      whenRegistered: () => this.#registrar.registered(),
      onNodeNotFound: () => void this.#registrar.register(),
    });
    this.#watcher = new AllocWatcher({
      rpc: parts.rpc,
      identity: parts.identity,
      logger: parts.logger,
      maxQueryTimeMs: parts.maxQueryTimeMs,
      onChanges: (changes) => this.#onChanges(changes),
      onNodeNotFound: () => this.#registrar.register(),
    });
  }

  /**
   * Starts the agent: identity, drivers and fingerprint, restore of the local state, then
   * registration and the allocation watch in the background. Rejects when the data folder or the
   * host cannot be used, and with DataDirLockedError while another agent uses the data folder;
   * later failures (servers away) are retried and logged.
   */
  static async start(options: ClientAgentOptions): Promise<ClientAgent> {
    const lock = await ClientDataDirLock.acquire(options.config.dataDir);
    try {
      return await ClientAgent.#startLocked(options, lock);
    } catch (err) {
      lock.releaseSync();
      throw err;
    }
  }

  static async #startLocked(options: ClientAgentOptions, lock: ClientDataDirLock): Promise<ClientAgent> {
    const { config } = options;
    const paths = clientPaths(config.dataDir);
    const { identity, created } = await loadOrCreateNodeIdentity(paths.nodeFile);
    const logger = options.logger.child({ component: 'client', nodeId: identity.ID });

    const drivers = clientDrivers(config);
    const driverInfo: Record<string, DriverInfo> = {};
    for (const [name, driver] of drivers) {
      const { Detected, Healthy } = driver.fingerprint();
      driverInfo[name] = { Detected, Healthy };
    }
    const fingerprint = await fingerprintNode({
      cpuTotalComputeMhz: config.client.cpuTotalComputeMhz,
      memoryTotalMb: config.client.memoryTotalMb,
      drivers: driverInfo,
    });
    const node: NodeRegistration = {
      ID: identity.ID,
      SecretID: identity.SecretID,
      Name: config.name,
      Datacenter: config.datacenter,
      NodeClass: config.client.nodeClass,
      NodeResources: { CPU: fingerprint.cpuMhz, MemoryMB: fingerprint.memoryMb },
      Drivers: driverInfo,
      Attributes: fingerprint.attributes,
    };
    const rpc = new ClientRpc({ servers: config.client.servers, logger, ...options.rpc });
    const agent = new ClientAgent({
      identity,
      node,
      logger,
      rpc,
      store: new LocalStateStore(paths.allocStateDir),
      drivers,
      dataDir: config.dataDir,
      lock,
      maxQueryTimeMs: options.maxQueryTimeMs,
    });
    logger.info(
      {
        name: node.Name,
        datacenter: node.Datacenter,
        newNode: created,
        cpuMhz: node.NodeResources.CPU,
        memoryMb: node.NodeResources.MemoryMB,
        drivers: Object.keys(driverInfo).filter((name) => driverInfo[name]!.Healthy),
        servers: rpc.servers(),
      },
      'client agent starting',
    );
    await agent.#restore();
    void agent.#registrar.register().then(() => {
      if (agent.#closing === null) agent.#watcher.start();
    });
    return agent;
  }

  /** IDs of the allocations that this client keeps state for. */
  allocIds(): string[] {
    return [...this.#runners.keys()];
  }

  /**
   * Stops every task of this client and waits until all are dead, for an agent whose tasks must
   * not outlive it (the -dev agent). Call close() afterwards to send the last status reports.
   */
  async stopAllocations(): Promise<void> {
    await Promise.all([...this.#runners.values()].map((runner) => runner.stop()));
  }

  /**
   * Stops the watch, the heartbeats and the status reports, after giving the last reports a
   * moment to reach the servers. Tasks keep running; the next start re-attaches to them.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#logger.info({ allocs: this.#runners.size }, 'client agent stopping; tasks keep running');
    this.#registrar.close();
    await this.#watcher.close();
    await this.#reporter.close(CLOSE_REPORT_TIMEOUT_MS);
    await this.#store.flush();
    this.#rpc.close();
    this.#lock.releaseSync();
  }

  /** Re-creates a runner for every allocation in the local state, re-attaching to its tasks. */
  async #restore(): Promise<void> {
    const { records, unreadable } = await this.#store.loadAll();
    for (const { id, reason } of unreadable) {
      this.#logger.error(
        { allocId: id, reason },
        'cannot read the local state of an allocation; it will not run again',
      );
      this.#unrecoverable.set(id, reason);
    }
    for (const record of records) {
      const runner = this.#newRunner(record.alloc);
      this.#runners.set(record.alloc.ID, runner);
      await runner.restore(record);
    }
    if (records.length > 0 || unreadable.length > 0) {
      this.#logger.info(
        { restored: records.length, unreadable: unreadable.length },
        'restored allocations from the local state',
      );
    }
  }

  #newRunner(alloc: ClientAllocation): AllocRunner {
    return new AllocRunner(alloc, {
      dataDir: this.#dataDir,
      drivers: this.#drivers,
      store: this.#store,
      report: (update) => this.#reporter.report(update),
      variables: { rpc: this.#rpc, node: this.identity },
      logger: this.#logger,
    });
  }

  /**
   * Applies one round of the watch. A new allocation gets a runner, and only once, because the
   * runner is kept until the servers drop the allocation. A known allocation gets the servers'
   * newer version. An allocation that the servers no longer place here is stopped and forgotten.
   */
  async #onChanges(changes: AllocChanges): Promise<void> {
    if (this.#closing !== null) return;
    for (const alloc of changes.updated) {
      const runner = this.#runners.get(alloc.ID);
      if (runner !== undefined) {
        runner.update(alloc);
        continue;
      }
      const unreadableReason = this.#unrecoverable.get(alloc.ID);
      if (unreadableReason !== undefined) {
        this.#reportUnrecoverable(alloc, unreadableReason);
        continue;
      }
      // An allocation that ended before this client knew it is never run. One that never ran
      // (still pending) is reported complete, as Nomad's client does, so its workload identities
      // end and its job can settle. One that ran before (this client's local state was removed,
      // say) is left alone.
      if (isTerminal(alloc)) {
        if (alloc.ClientStatus === 'pending') this.#reportStoppedBeforeRun(alloc);
        continue;
      }
      const fresh = this.#newRunner(alloc);
      this.#runners.set(alloc.ID, fresh);
      await fresh.start();
    }
    for (const [id, runner] of this.#runners) {
      if (changes.present.has(id)) continue;
      this.#runners.delete(id);
      this.#logger.info(
        { allocId: id },
        'the servers dropped the allocation; stopping it and removing its local state',
      );
      runner.destroy().catch((err: unknown) => {
        this.#logger.error({ err, allocId: id }, 'failed to remove the local state of a dropped allocation');
      });
    }
  }

  #reportStoppedBeforeRun(alloc: ClientAllocation): void {
    this.#logger.info({ allocId: alloc.ID }, 'allocation was stopped before it ran; reporting it complete');
    this.#reporter.report({
      ID: alloc.ID,
      ClientStatus: 'complete',
      ClientDescription: 'the allocation was stopped before it ran',
      TaskStates: alloc.TaskStates,
    });
  }

  #reportUnrecoverable(alloc: ClientAllocation, reason: string): void {
    if (alloc.ClientStatus === 'failed') return;
    this.#reporter.report({
      ID: alloc.ID,
      ClientStatus: 'failed',
      ClientDescription: `the client lost the state of this allocation: ${reason}`.slice(0, 1000),
      TaskStates: alloc.TaskStates,
    });
  }
}
