import { randomUUID } from 'node:crypto';
import type { ClientRequestHandler } from '../../src/rpc/client-channel.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { RpcTransport, type TransportOptions } from '../../src/rpc/transport.js';
import { ClientEndpoints } from '../../src/server/client-endpoints.js';
import { type HeartbeatOptions, Heartbeats } from '../../src/server/heartbeats.js';
import { RequestError } from '../../src/server/request-error.js';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import { StateStore } from '../../src/state/store.js';
import { LogCapture } from '../rpc/transport-support.js';

/**
 * Creates a store past the bootstrap entry and an `apply` that commits each command at the next
 * index directly, as a single leading server would. A rejected command throws RequestError with
 * the state's status and message, as ClusterOperations.apply does.
 */
export function directState(): { state: StateStore; apply(command: Command): Promise<{ index: number }> } {
  const state = new StateStore();
  state.advanceTo(1);
  return {
    state,
    apply(command: Command): Promise<{ index: number }> {
      const index = state.latestIndex + 1;
      const result = state.apply(index, encodeCommand(command));
      if (!result.ok) return Promise.reject(new RequestError(result.status, result.message));
      return Promise.resolve({ index });
    },
  };
}

export interface ClientServer {
  readonly state: StateStore;
  readonly apply: (command: Command) => Promise<{ index: number }>;
  readonly endpoints: ClientEndpoints;
  readonly heartbeats: Heartbeats;
  readonly transport: RpcTransport;
  readonly address: string;
  readonly logs: LogCapture;
  /** Node IDs whose heartbeat timer ran out, in order. */
  readonly expired: string[];
  close(): Promise<void>;
}

export interface ClientServerOptions {
  readonly heartbeat?: Partial<HeartbeatOptions>;
  /** Replaces the endpoints as the transport's client handler. */
  readonly handler?: ClientRequestHandler;
  readonly transport?: Partial<Omit<TransportOptions, 'logger' | 'onClientRequest'>>;
  readonly servers?: () => string[];
}

/**
 * Starts one server on 127.0.0.1 that serves the client RPC from a real StateStore with direct
 * apply. Its heartbeat timers run, and an expired one marks the node down.
 */
export async function startClientServer(options: ClientServerOptions = {}): Promise<ClientServer> {
  const logs = new LogCapture();
  const { state, apply } = directState();
  const expired: string[] = [];
  let endpoints: ClientEndpoints | null = null;
  const heartbeats = new Heartbeats({
    options: options.heartbeat,
    logger: logs.logger,
    onExpired: async (nodeId) => {
      expired.push(nodeId);
      await endpoints?.expireNode(nodeId);
    },
  });
  heartbeats.start([]);

  let address = '';
  endpoints = new ClientEndpoints({
    state,
    apply,
    consistentRead: () => Promise.resolve(),
    servers: options.servers ?? (() => [address]),
    heartbeat: (nodeId) => Promise.resolve(heartbeats.heartbeat(nodeId)),
    newId: randomUUID,
    now: Date.now,
    logger: logs.logger,
  });
  const served = endpoints;

  const transport = await RpcTransport.listen({
    nodeId: 1,
    clusterKey: Buffer.from(generateClusterKey(), 'base64'),
    host: '127.0.0.1',
    port: 0,
    introduction: () => ({ id: 1 }),
    onIntroduction: () => {},
    onFrame: () => {},
    onRequest: () => Promise.reject(new Error('no server requests in this test')),
    ...options.transport,
    logger: logs.logger,
    onClientRequest: options.handler ?? ((method, body, context) => served.handle(method, body, context)),
  });
  address = `127.0.0.1:${transport.port}`;

  return {
    state,
    apply,
    endpoints,
    heartbeats,
    transport,
    address,
    logs,
    expired,
    async close() {
      heartbeats.stop();
      await transport.close();
    },
  };
}
