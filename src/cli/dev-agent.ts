import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Logger, pino } from 'pino';
import { ClientAgent } from '../client/agent.js';
import { generateClusterKey } from '../rpc/cluster-key.js';
import type { ServerAgent } from '../server/agent.js';
import { type AgentConfig, type AgentConfigInput, resolveAgentConfig } from '../server/agent-config.js';
import { type AgentFlags, type RunningServer, readConfigInputs, startServer } from './agent-main.js';

/** How long the dev agent waits for its server to lead and accept the ACL bootstrap. */
const BOOTSTRAP_DEADLINE_MS = 60_000;
const BOOTSTRAP_RETRY_MS = 200;

/** Returns the path of the owner-only file that stores the management token's secret. */
export function devTokenFile(dataDir: string): string {
  return join(dataDir, 'server', 'dev-bootstrap-token');
}

/** Returns the path of the owner-only file that stores the cluster key a -dev agent made. */
export function devClusterKeyFile(dataDir: string): string {
  return join(dataDir, 'server', 'dev-cluster-key');
}

/**
 * Returns the cluster key of an earlier -dev run on this data folder, or makes and saves a new
 * one. The key wraps the root keys, so a restart with a new key could no longer decrypt the
 * variables or verify the tokens of the earlier run.
 */
async function devClusterKey(dataDir: string): Promise<string> {
  const file = devClusterKeyFile(dataDir);
  const saved = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => null,
  );
  if (saved !== null && saved !== '') return saved;
  const key = generateClusterKey();
  await mkdir(join(dataDir, 'server'), { recursive: true, mode: 0o700 });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/**
 * Runs `signet agent -dev`: a server that founds a cluster of one and a client that dials it, in
 * one process on 127.0.0.1. The management token goes to stdout once and to an owner-only file,
 * never to the logs. On SIGINT or SIGTERM it stops its tasks (unlike a plain client, whose tasks
 * outlive it), then the agents, removes a temporary data folder, and exits the process with 0.
 */
export async function runDevAgent(flags: AgentFlags): Promise<number> {
  let inputs: AgentConfigInput[];
  try {
    inputs = await readConfigInputs(flags);
  } catch (err) {
    process.stderr.write(`signet agent: ${(err as Error).message}\n`);
    return 1;
  }
  const temporary = flags.dataDir === undefined;
  const dataDir = flags.dataDir ?? (await mkdtemp(join(tmpdir(), 'signet-dev-')));
  const removeData = async (): Promise<void> => {
    if (temporary) await rm(dataDir, { recursive: true, force: true });
  };
  let config: AgentConfig;
  try {
    config = devConfig(dataDir, await devClusterKey(dataDir), inputs);
  } catch (err) {
    process.stderr.write(`signet agent: ${(err as Error).message}\n`);
    await removeData();
    return 1;
  }
  const logger = pino({ level: config.logLevel });
  // Registered before anything starts, so that a signal during startup also cleans up.
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });

  const server = await startServer(config, logger);
  if (server === null) {
    await removeData();
    return 1;
  }
  let client: ClientAgent;
  try {
    client = await ClientAgent.start({ config, logger });
  } catch (err) {
    process.stderr.write(`signet agent: cannot start the client: ${(err as Error).message}\n`);
    await server.close();
    await removeData();
    return 1;
  }
  logger.info({ dataDir, temporary, http: `${config.bindAddr}:${server.httpPort}` }, 'dev agent running');

  const ready = announceToken(server.agent, dataDir, logger);
  const outcome = await Promise.race([
    stopped.then((signal) => ({ signal, code: 0 })),
    server.failed.then((code) => ({ signal: null, code })),
    ready.then((ok) => (ok ? new Promise<never>(() => undefined) : { signal: null, code: 1 })),
  ]);
  logger.info({ signal: outcome.signal }, 'stopping the dev agent and its tasks');
  await stopAll(client, server);
  await removeData();
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  // The watches of the stopped tasks may still hold the event loop, as in client-main.ts.
  process.exit(outcome.code);
}

/** Stops the tasks first, so their last states reach the server before the client stops reporting. */
async function stopAll(client: ClientAgent, server: RunningServer): Promise<void> {
  await client.stopAllocations();
  await client.close();
  await server.close();
}

/**
 * The dev defaults, then the files and flags (which win), then the two fields that only -dev
 * decides: both roles on, and the client dialing this server's RPC port.
 */
function devConfig(dataDir: string, clusterKey: string, inputs: readonly AgentConfigInput[]): AgentConfig {
  const defaults: AgentConfigInput = {
    data_dir: dataDir,
    bind_addr: '127.0.0.1',
    server: { bootstrap_expect: 1, encrypt: clusterKey },
    acl: { enabled: true },
    plugin: { raw_exec: { config: { enabled: true } } },
  };
  const roles: AgentConfigInput = {
    server: { enabled: true },
    client: { enabled: true, servers: ['127.0.0.1'] },
  };
  const config = resolveAgentConfig([defaults, ...inputs, roles]);
  return { ...config, client: { ...config.client, servers: [`${config.bindAddr}:${config.ports.rpc}`] } };
}

/**
 * Bootstraps the ACLs once the server leads and prints the management token. A data folder from an
 * earlier -dev run is already bootstrapped: its token file is printed again. Returns false when
 * no token can be had before the deadline (the reason goes to stderr).
 */
async function announceToken(agent: ServerAgent, dataDir: string, logger: Logger): Promise<boolean> {
  const file = devTokenFile(dataDir);
  const savedSecret = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    () => null,
  );
  const secret = savedSecret ?? (await bootstrap(agent, logger));
  if (secret === null) return false;
  if (savedSecret === null) {
    try {
      await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      process.stderr.write(`signet agent: cannot write the token file ${file}: ${(err as Error).message}\n`);
    }
  }
  process.stdout.write(
    `Bootstrap token (management): ${secret}\nexport NOMAD_TOKEN=${secret}\n(also in ${file}, owner-only)\n`,
  );
  return true;
}

/** The bootstrap token's secret, or null when the server refuses it until the deadline. */
async function bootstrap(agent: ServerAgent, logger: Logger): Promise<string | null> {
  const deadline = performance.now() + BOOTSTRAP_DEADLINE_MS;
  for (;;) {
    try {
      return (await agent.operations.acl.bootstrap(null)).SecretID;
    } catch (err) {
      const reason = (err as Error).message;
      // Before a leader is elected and has applied its first entries the request fails.
      if (performance.now() > deadline) {
        process.stderr.write(`signet agent: cannot bootstrap the ACLs: ${reason}\n`);
        return null;
      }
      logger.debug({ reason }, 'ACL bootstrap not possible yet; retrying');
      await delay(BOOTSTRAP_RETRY_MS);
    }
  }
}
