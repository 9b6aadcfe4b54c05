import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { decodeClusterKey } from '../rpc/cluster-key.js';
import { parseGoDuration } from '../structs/go-duration.js';
import { joinAddress } from './addresses.js';
import { parseHcl } from './hcl.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

/** Agent configuration after defaults, file and flags are merged and checked. */
export interface AgentConfig {
  /** Node name, unique in the cluster. */
  readonly name: string;
  /** Folder for the Raft log, snapshots and keys. */
  readonly dataDir: string;
  /** Address that the HTTP API and the server RPC listen on. */
  readonly bindAddr: string;
  readonly ports: { readonly http: number; readonly rpc: number };
  readonly server: {
    readonly enabled: boolean;
    /** Servers to wait for before founding the cluster; 0 never founds, it only joins. */
    readonly bootstrapExpect: number;
    /** Cluster key, 32 bytes in base64. Secret: never log it. */
    readonly encrypt: string | null;
    /** Server addresses (`host` or `host:port`) to join. */
    readonly retryJoin: readonly string[];
    /** Scales the Raft timing (tick length) for slow or busy machines, as Nomad's raft_multiplier. */
    readonly raftMultiplier: number;
    /** Applied entries after which a server takes a snapshot and compacts its log. */
    readonly raftSnapshotThreshold: number;
    /** Entries kept below a snapshot, so that a follower a little behind catches up without one. */
    readonly raftTrailingLogs: number;
    /** Shortest heartbeat TTL handed to client nodes, in ms (Nomad's min_heartbeat_ttl). */
    readonly minHeartbeatTtlMs: number;
    /** Time past a node's TTL before the leader marks it down, in ms (Nomad's heartbeat_grace). */
    readonly heartbeatGraceMs: number;
    /** Timer every live node gets when a server takes office, in ms (Nomad's failover_heartbeat_ttl). */
    readonly failoverHeartbeatTtlMs: number;
    /** Age of the active root key after which the leader rotates it, in ms. */
    readonly rootKeyRotationThresholdMs: number;
    /** Age (since creation) after which the leader removes an inactive root key that nothing uses, in ms. */
    readonly rootKeyGcThresholdMs: number;
    /** How often the leader checks the keyring for rotation and removal, in ms. */
    readonly rootKeyGcIntervalMs: number;
    /** `iss` claim of workload identities and the OIDC discovery issuer; null turns both off. */
    readonly oidcIssuer: string | null;
  };
  readonly acl: { readonly enabled: boolean };
  readonly logLevel: LogLevel;
  /** Region of this agent; the first part of every workload identity's `sub` claim. */
  readonly region: string;
  /** Datacenter of this agent's client node; jobs name the datacenters they may run in. */
  readonly datacenter: string;
  readonly client: {
    readonly enabled: boolean;
    /** Server RPC addresses (host:port) that the client dials; a port left out is 4647. */
    readonly servers: readonly string[];
    /** Node class that jobs can constrain on; '' for none. */
    readonly nodeClass: string;
    /** CPU to advertise in MHz, in place of the fingerprinted cores × clock speed; null to fingerprint. */
    readonly cpuTotalComputeMhz: number | null;
    /** Memory to advertise in MB, in place of the fingerprinted total; null to fingerprint. */
    readonly memoryTotalMb: number | null;
  };
  /** Task driver plugins, by Nomad's driver name. A driver that is not enabled runs no task. */
  readonly plugins: Readonly<Record<DriverPluginName, { readonly enabled: boolean }>>;
}

/**
 * Task drivers that the agent configuration can enable with `plugin "NAME" { config { enabled = true } }`.
 * Both are off by default: raw_exec runs commands as the agent's user without isolation, as in
 * Nomad, and mock only replaces real tasks in tests and benchmarks.
 */
export const DRIVER_PLUGINS = ['raw_exec', 'mock'] as const;
export type DriverPluginName = (typeof DRIVER_PLUGINS)[number];

/** Every default of the agent configuration. Ports follow Nomad: HTTP 4646, server RPC 4647. */
export const AGENT_DEFAULTS = {
  bindAddr: '0.0.0.0',
  httpPort: 4646,
  rpcPort: 4647,
  /**
   * 0: never found a cluster, only join one through retry_join, as Nomad's servers without
   * bootstrap_expect. The founding servers set it to their number; a single server sets 1.
   */
  bootstrapExpect: 0,
  logLevel: 'info' as LogLevel,
  raftMultiplier: 1,
  /** Nomad's default: a snapshot every 8192 applied entries keeps restarts and catch-up short. */
  raftSnapshotThreshold: 8192,
  /** Fewer than Nomad's 10240: Signet's snapshots are small, so a lagging follower loses little by taking one. */
  raftTrailingLogs: 1024,
  /** Nomad's defaults: a node has at least 10 s + 10 s of grace, and 5 min across a leader change. */
  minHeartbeatTtl: '10s',
  heartbeatGrace: '10s',
  failoverHeartbeatTtl: '5m',
  /** Nomad's keyring defaults: rotate after 30 days, remove unused inactive keys after 1 h, check every 10 min. */
  rootKeyRotationThreshold: '720h',
  rootKeyGcThreshold: '1h',
  rootKeyGcInterval: '10m',
  /** Nomad's default region. */
  region: 'global',
  /**
   * Length of one Raft tick at raft_multiplier 1. The core's heartbeat is 1 tick and its election
   * timeout 10 to 20 ticks, so a leader is replaced 1 to 2 s after it fails. That is the same order
   * as etcd's defaults (100 ms heartbeat, 1 s election): fast enough for failover tests, and slow
   * enough that a garbage-collection pause on a busy 2-core machine does not depose a leader.
   */
  raftTickMs: 100,
  /** Nomad's default datacenter. */
  datacenter: 'dc1',
} as const;

/**
 * Fields as a configuration file or the command line gives them, in Nomad's names. Every field is
 * optional; `resolveAgentConfig` fills defaults and checks the result.
 */
export interface AgentConfigInput {
  name?: string;
  data_dir?: string;
  bind_addr?: string;
  log_level?: string;
  ports?: { http?: number; rpc?: number };
  server?: {
    enabled?: boolean;
    bootstrap_expect?: number;
    encrypt?: string;
    server_join?: { retry_join?: string[] };
    raft_multiplier?: number;
    raft_snapshot_threshold?: number;
    raft_trailing_logs?: number;
    min_heartbeat_ttl?: string;
    heartbeat_grace?: string;
    failover_heartbeat_ttl?: string;
    root_key_rotation_threshold?: string;
    root_key_gc_threshold?: string;
    root_key_gc_interval?: string;
    oidc_issuer?: string;
  };
  acl?: { enabled?: boolean };
  region?: string;
  datacenter?: string;
  client?: {
    enabled?: boolean;
    servers?: string[];
    node_class?: string;
    cpu_total_compute?: number;
    memory_total_mb?: number;
  };
  plugin?: { [name: string]: { config?: { enabled?: boolean } } };
}

/** Raised for a configuration that cannot be used; `field` is the Nomad name of the bad field. */
export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

type Shape = 'string' | 'number' | 'boolean' | 'strings' | LabeledBlocks | { readonly [key: string]: Shape };

/**
 * Blocks with one label, such as `plugin "raw_exec" { ... }`, read into a map from label to block.
 * Only the listed labels are accepted, each at most once.
 */
class LabeledBlocks {
  readonly labels: readonly string[];
  readonly block: { readonly [key: string]: Shape };

  constructor(labels: readonly string[], block: { readonly [key: string]: Shape }) {
    this.labels = labels;
    this.block = block;
  }
}

const INPUT_SHAPE: { readonly [key: string]: Shape } = {
  name: 'string',
  data_dir: 'string',
  bind_addr: 'string',
  log_level: 'string',
  ports: { http: 'number', rpc: 'number' },
  server: {
    enabled: 'boolean',
    bootstrap_expect: 'number',
    encrypt: 'string',
    server_join: { retry_join: 'strings' },
    raft_multiplier: 'number',
    raft_snapshot_threshold: 'number',
    raft_trailing_logs: 'number',
    min_heartbeat_ttl: 'string',
    heartbeat_grace: 'string',
    failover_heartbeat_ttl: 'string',
    root_key_rotation_threshold: 'string',
    root_key_gc_threshold: 'string',
    root_key_gc_interval: 'string',
    oidc_issuer: 'string',
  },
  acl: { enabled: 'boolean' },
  region: 'string',
  datacenter: 'string',
  client: {
    enabled: 'boolean',
    servers: 'strings',
    node_class: 'string',
    cpu_total_compute: 'number',
    memory_total_mb: 'number',
  },
  plugin: new LabeledBlocks(DRIVER_PLUGINS, { config: { enabled: 'boolean' } }),
};

/**
 * Parses an agent configuration file in HCL or JSON, as Nomad's agent reads it. Unknown keys,
 * repeated blocks and values of the wrong type are rejected with the field's name.
 */
export function parseAgentConfig(text: string, origin: string): AgentConfigInput {
  return normalize(parseHcl(text, origin), INPUT_SHAPE, '', origin) as AgentConfigInput;
}

function normalize(value: unknown, shape: Shape, path: string, origin: string): unknown {
  if (shape instanceof LabeledBlocks) return normalizeLabeled(value, shape, path, origin);
  if (typeof shape === 'object') {
    // HCL1 turns every block into a list of objects; JSON gives the object itself.
    let block = value;
    if (Array.isArray(block)) {
      if (block.length !== 1) {
        throw new AgentConfigError(
          path,
          `invalid ${origin}: block ${path} appears ${block.length} times, expected once`,
        );
      }
      block = block[0];
    }
    if (typeof block !== 'object' || block === null) {
      throw new AgentConfigError(
        path,
        `invalid ${origin}: ${path || 'the file'} must be a block of settings`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(block as Record<string, unknown>)) {
      const fieldPath = path === '' ? key : `${path}.${key}`;
      const fieldShape = shape[key];
      if (fieldShape === undefined) {
        throw new AgentConfigError(
          fieldPath,
          `invalid ${origin}: unknown key ${fieldPath}; expected one of ${Object.keys(shape).join(', ')}`,
        );
      }
      out[key] = normalize(field, fieldShape, fieldPath, origin);
    }
    return out;
  }
  const ok =
    shape === 'strings'
      ? Array.isArray(value) && value.every((item) => typeof item === 'string')
      : typeof value === shape;
  if (!ok) {
    const expected = shape === 'strings' ? 'a list of strings' : `a ${shape}`;
    throw new AgentConfigError(
      path,
      `invalid ${origin}: ${path} must be ${expected}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * Reads labeled blocks into a map from label to block. HCL1 gives a list with one single-key object
 * per block (`[{ raw_exec: [{...}] }, { mock: [{...}] }]`); the JSON form may also give one object
 * keyed by label.
 */
function normalizeLabeled(value: unknown, shape: LabeledBlocks, path: string, origin: string): unknown {
  const entries: [string, unknown][] = [];
  for (const item of Array.isArray(value) ? value : [value]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new AgentConfigError(
        path,
        `invalid ${origin}: ${path} must be blocks with a name, such as ${path} "NAME" { ... }`,
      );
    }
    entries.push(...Object.entries(item as Record<string, unknown>));
  }
  const out: Record<string, unknown> = {};
  for (const [label, block] of entries) {
    const fieldPath = `${path}.${label}`;
    if (!shape.labels.includes(label)) {
      throw new AgentConfigError(
        fieldPath,
        `invalid ${origin}: unknown key ${fieldPath}; expected one of ${shape.labels.map((name) => `${path}.${name}`).join(', ')}`,
      );
    }
    if (Object.hasOwn(out, label)) {
      throw new AgentConfigError(
        fieldPath,
        `invalid ${origin}: block ${fieldPath} appears more than once, expected once`,
      );
    }
    out[label] = normalize(block, shape.block, fieldPath, origin);
  }
  return out;
}

/**
 * Merges the defaults, then each input in order (configuration files, then flags, so later ones
 * win), and checks the result. The error names the field and how to fix it.
 */
export function resolveAgentConfig(inputs: readonly AgentConfigInput[]): AgentConfig {
  const merged: AgentConfigInput = {};
  for (const input of inputs) mergeInto(merged as Record<string, unknown>, input as Record<string, unknown>);

  const server = merged.server ?? {};
  const config: AgentConfig = {
    name: merged.name ?? hostname(),
    dataDir: merged.data_dir ?? '',
    bindAddr: merged.bind_addr ?? AGENT_DEFAULTS.bindAddr,
    ports: {
      http: merged.ports?.http ?? AGENT_DEFAULTS.httpPort,
      rpc: merged.ports?.rpc ?? AGENT_DEFAULTS.rpcPort,
    },
    server: {
      enabled: server.enabled ?? false,
      bootstrapExpect: server.bootstrap_expect ?? AGENT_DEFAULTS.bootstrapExpect,
      encrypt: server.encrypt ?? null,
      retryJoin: server.server_join?.retry_join ?? [],
      raftMultiplier: server.raft_multiplier ?? AGENT_DEFAULTS.raftMultiplier,
      raftSnapshotThreshold: server.raft_snapshot_threshold ?? AGENT_DEFAULTS.raftSnapshotThreshold,
      raftTrailingLogs: server.raft_trailing_logs ?? AGENT_DEFAULTS.raftTrailingLogs,
      minHeartbeatTtlMs: durationField(
        'server.min_heartbeat_ttl',
        server.min_heartbeat_ttl ?? AGENT_DEFAULTS.minHeartbeatTtl,
      ),
      heartbeatGraceMs: durationField(
        'server.heartbeat_grace',
        server.heartbeat_grace ?? AGENT_DEFAULTS.heartbeatGrace,
      ),
      failoverHeartbeatTtlMs: durationField(
        'server.failover_heartbeat_ttl',
        server.failover_heartbeat_ttl ?? AGENT_DEFAULTS.failoverHeartbeatTtl,
      ),
      rootKeyRotationThresholdMs: durationField(
        'server.root_key_rotation_threshold',
        server.root_key_rotation_threshold ?? AGENT_DEFAULTS.rootKeyRotationThreshold,
      ),
      rootKeyGcThresholdMs: durationField(
        'server.root_key_gc_threshold',
        server.root_key_gc_threshold ?? AGENT_DEFAULTS.rootKeyGcThreshold,
      ),
      rootKeyGcIntervalMs: durationField(
        'server.root_key_gc_interval',
        server.root_key_gc_interval ?? AGENT_DEFAULTS.rootKeyGcInterval,
      ),
      oidcIssuer: server.oidc_issuer ?? null,
    },
    acl: { enabled: merged.acl?.enabled ?? false },
    logLevel: (merged.log_level ?? AGENT_DEFAULTS.logLevel) as LogLevel,
    region: merged.region ?? AGENT_DEFAULTS.region,
    datacenter: merged.datacenter ?? AGENT_DEFAULTS.datacenter,
    client: {
      enabled: merged.client?.enabled ?? false,
      servers: merged.client?.servers ?? [],
      nodeClass: merged.client?.node_class ?? '',
      cpuTotalComputeMhz: merged.client?.cpu_total_compute ?? null,
      memoryTotalMb: merged.client?.memory_total_mb ?? null,
    },
    plugins: {
      raw_exec: { enabled: merged.plugin?.raw_exec?.config?.enabled ?? false },
      mock: { enabled: merged.plugin?.mock?.config?.enabled ?? false },
    },
  };
  validateAgentConfig(config);
  // Checked before the port is added, so an error shows the address as it was written.
  const servers = config.client.servers.map((address) => joinAddress(address, AGENT_DEFAULTS.rpcPort));
  return { ...config, client: { ...config.client, servers } };
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    if (isPlainObject(value) && isPlainObject(current)) mergeInto(current, value);
    else target[key] = isPlainObject(value) ? structuredClone(value) : value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validateAgentConfig(config: AgentConfig): void {
  if (config.name.trim() === '')
    throw new AgentConfigError('name', 'invalid name "": set name to a node name unique in the cluster');
  if (config.dataDir === '') {
    throw new AgentConfigError(
      'data_dir',
      'missing data_dir: set data_dir (or -data-dir) to a folder for the agent state',
    );
  }
  if (isIP(config.bindAddr) === 0) {
    throw new AgentConfigError(
      'bind_addr',
      `invalid bind_addr ${JSON.stringify(config.bindAddr)}: expected an IPv4 or IPv6 address`,
    );
  }
  for (const [field, port] of [
    ['ports.http', config.ports.http],
    ['ports.rpc', config.ports.rpc],
  ] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new AgentConfigError(field, `invalid ${field}=${port}: expected a port from 1 to 65535`);
    }
  }
  if (config.ports.http === config.ports.rpc) {
    throw new AgentConfigError(
      'ports',
      `invalid ports: http and rpc are both ${config.ports.http}; give them different ports`,
    );
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new AgentConfigError(
      'log_level',
      `invalid log_level ${JSON.stringify(config.logLevel)}: expected one of ${LOG_LEVELS.join(', ')}`,
    );
  }
  const { server } = config;
  if (!Number.isInteger(server.bootstrapExpect) || server.bootstrapExpect < 0) {
    throw new AgentConfigError(
      'server.bootstrap_expect',
      `invalid server.bootstrap_expect=${server.bootstrapExpect}: expected the number of founding servers (1 for a single server), or 0 to only join an existing cluster`,
    );
  }
  if (!Number.isInteger(server.raftMultiplier) || server.raftMultiplier < 1 || server.raftMultiplier > 10) {
    throw new AgentConfigError(
      'server.raft_multiplier',
      `invalid server.raft_multiplier=${server.raftMultiplier}: expected a whole number from 1 to 10 (1 is the fastest failover)`,
    );
  }
  if (!Number.isInteger(server.raftSnapshotThreshold) || server.raftSnapshotThreshold < 1) {
    throw new AgentConfigError(
      'server.raft_snapshot_threshold',
      `invalid server.raft_snapshot_threshold=${server.raftSnapshotThreshold}: expected a whole number of entries, at least 1`,
    );
  }
  if (!Number.isInteger(server.raftTrailingLogs) || server.raftTrailingLogs < 0) {
    throw new AgentConfigError(
      'server.raft_trailing_logs',
      `invalid server.raft_trailing_logs=${server.raftTrailingLogs}: expected a whole number of entries, 0 or more`,
    );
  }
  if (server.enabled) {
    if (server.encrypt === null) {
      throw new AgentConfigError(
        'server.encrypt',
        'missing server.encrypt: servers authenticate each other with a shared key; create one with signet operator keygen and set it on every server (server.encrypt, -encrypt or the SIGNET_ENCRYPT environment variable)',
      );
    }
    try {
      decodeClusterKey(server.encrypt);
    } catch (err) {
      // The message of decodeClusterKey never contains the key, which is a secret.
      throw new AgentConfigError('server.encrypt', `invalid server.encrypt: ${(err as Error).message}`);
    }
  }
  validateKeyringConfig(config);
  validateClientConfig(config);
  for (const address of server.retryJoin) {
    if (!isJoinAddress(address)) {
      throw new AgentConfigError(
        'server.server_join.retry_join',
        `invalid retry_join address ${JSON.stringify(address)}: expected host or host:port, with a port from 1 to 65535`,
      );
    }
  }
}

function validateKeyringConfig(config: AgentConfig): void {
  // The region is the first part of every identity's `sub` claim, whose parts are joined with ':'.
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(config.region)) {
    throw new AgentConfigError(
      'region',
      `invalid region ${JSON.stringify(config.region)}: expected 1 to 128 letters, digits, dots, dashes or underscores`,
    );
  }
  const { oidcIssuer } = config.server;
  if (oidcIssuer !== null) {
    const problem = issuerProblem(oidcIssuer);
    if (problem !== null) {
      throw new AgentConfigError(
        'server.oidc_issuer',
        `invalid server.oidc_issuer ${JSON.stringify(oidcIssuer)}: ${problem}`,
      );
    }
  }
}

/**
 * Checks an OIDC issuer as OpenID Connect Discovery 1.0 defines it: an http(s) URL without query,
 * fragment or credentials. A trailing slash is rejected because the JWKS URL is the issuer followed
 * by `/.well-known/jwks.json`, and the `iss` claim must equal the issuer byte for byte.
 */
function issuerProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected an absolute URL such as "https://signet.example.com"';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return `expected an http or https URL, got the scheme ${JSON.stringify(url.protocol.slice(0, -1))}`;
  }
  if (url.username !== '' || url.password !== '') return 'remove the user name and password from the URL';
  if (url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#')) {
    return 'remove the query and fragment: an issuer URL has neither';
  }
  if (text.endsWith('/')) return 'remove the trailing slash';
  return null;
}

function validateClientConfig(config: AgentConfig): void {
  const { client } = config;
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(config.datacenter)) {
    throw new AgentConfigError(
      'datacenter',
      `invalid datacenter ${JSON.stringify(config.datacenter)}: expected 1 to 128 letters, digits, dots, dashes or underscores`,
    );
  }
  for (const [field, value] of [
    ['client.cpu_total_compute', client.cpuTotalComputeMhz],
    ['client.memory_total_mb', client.memoryTotalMb],
  ] as const) {
    if (value !== null && (!Number.isSafeInteger(value) || value < 1)) {
      throw new AgentConfigError(field, `invalid ${field}=${value}: expected a whole number, at least 1`);
    }
  }
  for (const address of client.servers) {
    if (!isJoinAddress(address)) {
      throw new AgentConfigError(
        'client.servers',
        `invalid client.servers address ${JSON.stringify(address)}: expected host or host:port, with a port from 1 to 65535`,
      );
    }
  }
  if (client.enabled && client.servers.length === 0) {
    throw new AgentConfigError(
      'client.servers',
      'missing client.servers: a client dials at least one server; set client { servers = ["HOST:4647"] } or pass -servers HOST:4647',
    );
  }
}

function isJoinAddress(address: string): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d+))?$/.exec(address);
  if (match === null) return false;
  if (match[2] === undefined) return true;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535;
}

/** Reads a Go duration such as `10s` into milliseconds; zero or negative durations are refused. */
function durationField(field: string, text: string): number {
  const ms = parseGoDuration(text);
  if (ms === null || ms <= 0) {
    throw new AgentConfigError(
      field,
      `invalid ${field} ${JSON.stringify(text)}: expected a positive duration such as "10s" or "5m"`,
    );
  }
  return ms;
}
