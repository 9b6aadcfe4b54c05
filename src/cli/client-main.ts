import { pino } from 'pino';
import { ClientAgent } from '../client/agent.js';
import type { AgentConfig } from '../server/agent-config.js';

/**
 * Runs a client agent until SIGINT or SIGTERM, then exits the process with code 0. Returns 1 when
 * the agent cannot start (the reason goes to stderr). Tasks keep running after the agent stops, as
 * with Nomad's client; the next start with the same data folder re-attaches to them.
 */
export async function runClientAgent(config: AgentConfig): Promise<number> {
  const logger = pino({ level: config.logLevel });
  // Handlers go in before the start, so that a signal that arrives while the agent starts (after
  // it has locked its data folder) stops it in order instead of killing the process.
  let stopSignal: string | null = null;
  let wake: (() => void) | null = null;
  const stop = (signal: string): void => {
    stopSignal ??= signal;
    wake?.();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  let agent: ClientAgent;
  try {
    agent = await ClientAgent.start({ config, logger });
  } catch (err) {
    process.stderr.write(`signet agent: cannot start the client: ${(err as Error).message}\n`);
    logger.flush();
    return 1;
  }
  logger.info(
    { node: config.name, nodeId: agent.identity.ID, servers: config.client.servers, dataDir: config.dataDir },
    'agent running',
  );

  if (stopSignal === null) {
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
  }
  logger.info({ signal: stopSignal }, 'stopping the agent');
  await agent.close();
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  // The watches of running tasks (child process handles, /proc polls) would keep the event loop
  // alive, and the tasks must outlive the agent, so the process exits here on purpose.
  process.exit(0);
}
