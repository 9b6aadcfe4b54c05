import { readFile, writeFile } from 'node:fs/promises';
import type { AgentConfigInput, LogLevel } from '../src/server/agent-config.js';

/** Fields of the agent's `server` block that a cluster sets on every server, such as raft_snapshot_threshold. */
export type ServerTuning = Pick<
  NonNullable<AgentConfigInput['server']>,
  | 'raft_multiplier'
  | 'raft_snapshot_threshold'
  | 'raft_trailing_logs'
  | 'min_heartbeat_ttl'
  | 'heartbeat_grace'
  | 'failover_heartbeat_ttl'
>;

/** What the launcher decides for one server; the rest of the agent configuration keeps its defaults. */
export interface ServerConfigSpec {
  readonly name: string;
  readonly dataDir: string;
  readonly host: string;
  readonly httpPort: number;
  readonly rpcPort: number;
  readonly bootstrapExpect: number;
  /** Cluster key in base64. Secret: the config file is written with mode 0600. */
  readonly encrypt: string;
  readonly retryJoin: readonly string[];
  readonly logLevel: LogLevel;
  readonly tuning: ServerTuning;
  /** `acl { enabled = true }`: every request needs a token that grants it. */
  readonly aclEnabled: boolean;
}

/** Builds the agent configuration in the JSON form of Nomad's agent configuration. */
export function buildAgentConfig(spec: ServerConfigSpec): AgentConfigInput {
  return {
    name: spec.name,
    data_dir: spec.dataDir,
    bind_addr: spec.host,
    log_level: spec.logLevel,
    ports: { http: spec.httpPort, rpc: spec.rpcPort },
    server: {
      enabled: true,
      bootstrap_expect: spec.bootstrapExpect,
      encrypt: spec.encrypt,
      server_join: { retry_join: [...spec.retryJoin] },
      ...spec.tuning,
    },
    ...(spec.aclEnabled ? { acl: { enabled: true } } : {}),
  };
}

export async function writeAgentConfig(path: string, config: AgentConfigInput): Promise<void> {
  await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Reads a configuration file that the launcher wrote earlier. Throws when a field that the
 * launcher always writes is missing, because the file was then written by someone else.
 */
export async function readAgentConfig(path: string): Promise<ServerConfigSpec> {
  const input = JSON.parse(await readFile(path, 'utf8')) as AgentConfigInput;
  const server = input.server;
  if (
    input.name === undefined ||
    input.data_dir === undefined ||
    input.bind_addr === undefined ||
    input.ports?.http === undefined ||
    input.ports.rpc === undefined ||
    server?.encrypt === undefined ||
    server.bootstrap_expect === undefined
  ) {
    throw new Error(
      `invalid launcher config ${path}: name, data_dir, bind_addr, ports and server.encrypt and bootstrap_expect are required; remove the folder to start a new cluster`,
    );
  }
  const tuning: { -readonly [K in keyof ServerTuning]: ServerTuning[K] } = {};
  if (server.raft_multiplier !== undefined) tuning.raft_multiplier = server.raft_multiplier;
  if (server.raft_snapshot_threshold !== undefined)
    tuning.raft_snapshot_threshold = server.raft_snapshot_threshold;
  if (server.raft_trailing_logs !== undefined) tuning.raft_trailing_logs = server.raft_trailing_logs;
  for (const field of ['min_heartbeat_ttl', 'heartbeat_grace', 'failover_heartbeat_ttl'] as const) {
    if (server[field] !== undefined) tuning[field] = server[field];
  }
  return {
    name: input.name,
    dataDir: input.data_dir,
    host: input.bind_addr,
    httpPort: input.ports.http,
    rpcPort: input.ports.rpc,
    bootstrapExpect: server.bootstrap_expect,
    encrypt: server.encrypt,
    retryJoin: server.server_join?.retry_join ?? [],
    logLevel: (input.log_level ?? 'info') as LogLevel,
    tuning,
    aclEnabled: input.acl?.enabled === true,
  };
}
