import { readFile } from 'node:fs/promises';
import { type Logger, pino } from 'pino';
import { createHttpServer } from '../http/server.js';
import { ServerAgent } from '../server/agent.js';
import {
  type AgentConfig,
  AgentConfigError,
  type AgentConfigInput,
  parseAgentConfig,
  resolveAgentConfig,
} from '../server/agent-config.js';
import { takeAgentEnvInput } from '../server/agent-env.js';
import type { ServerBackend } from '../server/backend.js';
import { RequestError } from '../server/request-error.js';

/** Flags of `signet agent` as commander parsed them. */
export interface AgentFlags {
  readonly server?: boolean;
  readonly client?: boolean;
  /** Comma-separated server RPC addresses. */
  readonly servers?: string;
  readonly config?: readonly string[];
  readonly dataDir?: string;
  readonly bind?: string;
  readonly bootstrapExpect?: string;
  readonly retryJoin?: readonly string[];
  readonly node?: string;
  readonly encrypt?: string;
  readonly logLevel?: string;
  /** Server and client in one process on 127.0.0.1, with a temporary data folder (dev-agent.ts). */
  readonly dev?: boolean;
  readonly httpPort?: string;
  readonly rpcPort?: string;
}

/**
 * Runs a server or a client agent until SIGINT or SIGTERM. Returns the exit code: 0 after an
 * orderly stop, 1 when the configuration or the data folder cannot be used (the reason goes to
 * stderr) or when storage fails while running. A client agent ends the process itself after an
 * orderly stop, because its tasks' watches would keep it alive (runClientAgent).
 */
export async function runAgent(flags: AgentFlags): Promise<number> {
  if (flags.dev === true) {
    const { runDevAgent } = await import('./dev-agent.js');
    return runDevAgent(flags);
  }
  let config: AgentConfig;
  try {
    config = await loadConfig(flags);
  } catch (err) {
    process.stderr.write(`signet agent: ${(err as Error).message}\n`);
    return 1;
  }
  if (config.client.enabled) {
    const { runClientAgent } = await import('./client-main.js');
    return runClientAgent(config);
  }
  return runServerAgent(config);
}

async function runServerAgent(config: AgentConfig): Promise<number> {
  const logger = pino({ level: config.logLevel });
  const server = await startServer(config, logger);
  if (server === null) return 1;
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping the agent');
      resolve(0);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const code = await Promise.race([stopped, server.failed]);
  await server.close();
  logger.flush();
  return code;
}

/** A running server agent with its HTTP API. Its `failed` promise resolves to 1 when storage fails. */
export interface RunningServer {
  readonly agent: ServerAgent;
  readonly httpPort: number;
  readonly failed: Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the HTTP API, then the server agent. Returns null when either cannot start; the reason,
 * with the address of a taken port, goes to stderr.
 */
export async function startServer(config: AgentConfig, logger: Logger): Promise<RunningServer | null> {
  let fatal: (error: unknown) => void = () => undefined;
  const failed = new Promise<number>((resolve) => {
    fatal = () => resolve(1);
  });
  // The HTTP API binds first: a server whose HTTP port is taken must fail before it introduces
  // itself to the cluster, or the leader could add a server that is about to exit. Requests that
  // arrive before the server is up get 503.
  let agent: ServerAgent | null = null;
  const backend = new Proxy({} as ServerBackend, {
    get(_target, key: keyof ServerBackend) {
      if (agent === null) throw new RequestError(503, 'server is starting; retry shortly');
      const value = agent.operations[key];
      return typeof value === 'function' ? value.bind(agent.operations) : value;
    },
  });
  let http: { port: number; close(): Promise<void> };
  try {
    http = await createHttpServer({ backend, logger, host: config.bindAddr, port: config.ports.http });
  } catch (err) {
    process.stderr.write(
      `signet agent: cannot serve the HTTP API on ${config.bindAddr}:${config.ports.http}: ${(err as Error).message}\n`,
    );
    return null;
  }
  let started: ServerAgent;
  try {
    started = await ServerAgent.start({
      config,
      logger,
      httpPort: http.port,
      onFatal: (error) => fatal(error),
    });
  } catch (err) {
    process.stderr.write(`signet agent: cannot start the server: ${(err as Error).message}\n`);
    await http.close();
    return null;
  }
  agent = started;
  logger.info(
    {
      node: config.name,
      http: `${config.bindAddr}:${http.port}`,
      rpc: `${config.bindAddr}:${started.rpcPort}`,
    },
    'agent running',
  );
  return {
    agent: started,
    httpPort: http.port,
    failed,
    async close() {
      await http.close();
      await started.close();
    },
  };
}

async function loadConfig(flags: AgentFlags): Promise<AgentConfig> {
  const inputs = await readConfigInputs(flags);
  // Checked before the rest, so that the server's own requirements (server.encrypt) do not hide it.
  const roles = enabledRoles(inputs);
  if (roles.server && roles.client) {
    // Only -dev runs both: its client dials its own server, whose address is fixed.
    throw new AgentConfigError(
      'client.enabled',
      'cannot run a server and a client in one agent (server.enabled and client.enabled are both true): use -dev for a single-process agent on 127.0.0.1, or start two agents, one with -server and one with -client -servers HOST:PORT',
    );
  }
  if (!roles.server && !roles.client) {
    throw new AgentConfigError(
      'server.enabled',
      'this agent runs neither a server nor a client: pass -server or -client, or set server { enabled = true } or client { enabled = true }',
    );
  }
  return resolveAgentConfig(inputs);
}

/**
 * Reads the configuration inputs in merge order: the files, then the environment (SIGNET_ENCRYPT),
 * then the flags, so that the flags win. Deletes SIGNET_ENCRYPT from `env` once read, so that no
 * child process of the agent (a raw_exec task) inherits the cluster key from `process.env`.
 */
export async function readConfigInputs(
  flags: AgentFlags,
  env: Record<string, string | undefined> = process.env,
): Promise<AgentConfigInput[]> {
  const inputs: AgentConfigInput[] = [];
  for (const file of flags.config ?? []) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new AgentConfigError(
        'config',
        `cannot read configuration file ${file}: ${(err as Error).message}`,
      );
    }
    inputs.push(parseAgentConfig(text, file));
  }
  inputs.push(takeAgentEnvInput(env));
  inputs.push(flagInput(flags));
  return inputs;
}

/** server.enabled and client.enabled after the inputs are merged (later inputs win). */
function enabledRoles(inputs: readonly AgentConfigInput[]): { server: boolean; client: boolean } {
  let server = false;
  let client = false;
  for (const input of inputs) {
    server = input.server?.enabled ?? server;
    client = input.client?.enabled ?? client;
  }
  return { server, client };
}

/** Flags as one more configuration input, in Nomad's field names, so they win over the files. */
function flagInput(flags: AgentFlags): AgentConfigInput {
  let bootstrapExpect: number | undefined;
  if (flags.bootstrapExpect !== undefined) {
    bootstrapExpect = Number(flags.bootstrapExpect);
    if (!/^[0-9]+$/.test(flags.bootstrapExpect)) {
      throw new AgentConfigError(
        'server.bootstrap_expect',
        `invalid -bootstrap-expect ${JSON.stringify(flags.bootstrapExpect)}: expected a whole number of servers`,
      );
    }
  }
  const server: NonNullable<AgentConfigInput['server']> = {
    enabled: flags.server === true ? true : undefined,
    bootstrap_expect: bootstrapExpect,
    encrypt: flags.encrypt,
    server_join: flags.retryJoin === undefined ? undefined : { retry_join: [...flags.retryJoin] },
  };
  const client: NonNullable<AgentConfigInput['client']> = {
    enabled: flags.client === true ? true : undefined,
    servers: flags.servers === undefined ? undefined : splitServers(flags.servers),
  };
  return {
    name: flags.node,
    data_dir: flags.dataDir,
    ports: { http: portFlag('-http-port', flags.httpPort), rpc: portFlag('-rpc-port', flags.rpcPort) },
    bind_addr: flags.bind,
    log_level: flags.logLevel,
    server,
    client,
  };
}

/** Reads -http-port or -rpc-port; the range is checked with the rest of the configuration. */
function portFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) {
    throw new AgentConfigError(
      flag === '-http-port' ? 'ports.http' : 'ports.rpc',
      `invalid ${flag} ${JSON.stringify(value)}: expected a port number`,
    );
  }
  return Number(value);
}

/** Splits `-servers a:4647,b:4647` as Nomad does; blanks around the commas are ignored. */
function splitServers(value: string): string[] {
  return value
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
}
