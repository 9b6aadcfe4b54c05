import { join } from 'node:path';
import type { LogLevel } from '../src/server/agent-config.js';
import type { Node } from '../src/structs/node.js';
import type { AgentEntry } from './agent-entry.js';
import { ClientHandle } from './client-handle.js';
import { requestJson } from './http-client.js';
import type { ExitInfo, ServerHandle } from './server-handle.js';
import { done, pending, waitFor } from './wait.js';

export interface ClientFleetOptions {
  readonly entry: AgentEntry;
  readonly logLevel: LogLevel;
  /** Time between SIGTERM and SIGKILL when stopping a client, in ms. */
  readonly stopTimeoutMs: number;
  /** Deadline for each client's node to be ready, in ms. */
  readonly startTimeoutMs: number;
  readonly onUnexpectedExit: (client: ClientHandle, exit: ExitInfo) => void;
}

/** The servers that waitForNodes() queries for the clients' nodes, and the headers it sends. */
export interface NodeRegistry {
  live(): readonly ServerHandle[];
  authHeaders(): Record<string, string>;
}

/** The launcher's client agents, each in `<root>/client-N/{data,client.json,agent.log}`. */
export class ClientFleet {
  readonly #root: string;
  readonly #options: ClientFleetOptions;
  readonly #clients: ClientHandle[] = [];

  constructor(root: string, options: ClientFleetOptions) {
    this.#root = root;
    this.#options = options;
  }

  /** Client agents in start order, running or not. */
  get clients(): readonly ClientHandle[] {
    return this.#clients;
  }

  /**
   * Starts `count` clients, each dialing every address in `servers`. A kept folder `client-N` is
   * reused, so the client keeps its node identity, and its config is written again with the
   * servers' current addresses.
   */
  async start(count: number, servers: readonly string[]): Promise<void> {
    for (let number = 1; number <= count; number++) {
      const name = `client-${number}`;
      const client = new ClientHandle(join(this.#root, name), name, {
        entry: this.#options.entry,
        logLevel: this.#options.logLevel,
        stopTimeoutMs: this.#options.stopTimeoutMs,
        onUnexpectedExit: this.#options.onUnexpectedExit,
      });
      await client.writeConfig(servers);
      // Tracked before the start, so that stop() ends it even when the start fails half-way.
      this.#clients.push(client);
      client.start();
    }
  }

  /** Waits until every client's node is registered and ready; raises when a client exits first. */
  async waitForNodes(cluster: NodeRegistry): Promise<void> {
    for (const client of this.#clients) {
      const ready = await waitFor(
        `node ${client.name} to be ready`,
        { timeoutMs: this.#options.startTimeoutMs, intervalMs: 100 },
        async () => {
          if (!client.running) return done(false);
          const server = cluster.live()[0];
          if (server === undefined) return pending('no live server');
          const nodeId = await client.nodeId();
          const node = await requestJson<Node>(server.httpAddr, 'GET', `/v1/node/${nodeId}`, {
            timeoutMs: 2_000,
            headers: cluster.authHeaders(),
          });
          return node.Status === 'ready' ? done(true) : pending(`node ${nodeId} is ${node.Status}`);
        },
      ).catch(async (err: unknown) => {
        if (err instanceof Error) err.message += `; log: ${client.logPath}\n${await client.logTail(30)}`;
        throw err;
      });
      if (!ready) {
        throw new Error(
          `${client.name} exited during start; log: ${client.logPath}\n${await client.logTail(30)}`,
        );
      }
    }
  }

  /**
   * Stops every client (SIGTERM), then SIGKILLs their tasks' process groups, which outlive a
   * client agent. Returns the reasons of the clients whose tasks could not all be stopped.
   */
  async stop(): Promise<unknown[]> {
    const clientStops = await Promise.allSettled(
      this.#clients.map(async (client) => {
        await client.stop();
        await client.killTasks();
      }),
    );
    return clientStops.flatMap((result) => (result.status === 'rejected' ? [result.reason] : []));
  }
}
