import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { createHttpServer } from '../http/server.js';
import { ServerAgent } from '../server/agent.js';
import {
  type AgentConfig,
  AgentConfigError,
  type AgentConfigInput,
  parseAgentConfig,
  resolveAgentConfig,
} from '../server/agent-config.js';
import type { ServerBackend } from '../server/backend.js';
import { RequestError } from '../server/request-error.js';

/** Flags of `signet agent` as commander parsed them. */
export interface AgentFlags {
  readonly server?: boolean;
  readonly config?: readonly string[];
  readonly dataDir?: string;
  readonly bind?: string;
  readonly bootstrapExpect?: string;
  readonly retryJoin?: readonly string[];
  readonly node?: string;
  readonly encrypt?: string;
  readonly logLevel?: string;
}

/**
 * Runs a server agent until SIGINT or SIGTERM. Returns the exit code: 0 after an orderly stop,
 * 1 when the configuration or the data folder cannot be used (the reason goes to stderr) or when
 * storage fails while running.
 */
export async function runAgent(flags: AgentFlags): Promise<number> {
  let config: AgentConfig;
  try {
    config = await loadConfig(flags);
  } catch (err) {
    process.stderr.write(`signet agent: ${(err as Error).message}\n`);
    return 1;
  }

  const logger = pino({ level: config.logLevel });
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
    return 1;
  }
  try {
    agent = await ServerAgent.start({
      config,
      logger,
      httpPort: http.port,
      onFatal: (error) => fatal(error),
    });
  } catch (err) {
    process.stderr.write(`signet agent: cannot start the server: ${(err as Error).message}\n`);
    await http.close();
    return 1;
  }
  logger.info(
    {
      node: config.name,
      http: `${config.bindAddr}:${http.port}`,
      rpc: `${config.bindAddr}:${agent.rpcPort}`,
    },
    'agent running',
  );

  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping the agent');
      resolve(0);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const code = await Promise.race([stopped, failed]);
  await http.close();
  await agent.close();
  logger.flush();
  return code;
}

async function loadConfig(flags: AgentFlags): Promise<AgentConfig> {
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
  inputs.push(flagInput(flags));
  const config = resolveAgentConfig(inputs);
  if (!config.server.enabled) {
    throw new AgentConfigError(
      'server.enabled',
      'this agent runs no server: pass -server or set server { enabled = true } (client agents come later)',
    );
  }
  return config;
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
  return {
    name: flags.node,
    data_dir: flags.dataDir,
    bind_addr: flags.bind,
    log_level: flags.logLevel,
    server,
  };
}
