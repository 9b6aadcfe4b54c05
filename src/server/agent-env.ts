import { decodeClusterKey } from '../rpc/cluster-key.js';
import { AgentConfigError, type AgentConfigInput } from './agent-config.js';

/**
 * Environment variable that sets `server.encrypt`, so that a container or a service manager can
 * pass the cluster key from an env file or a secret store instead of a configuration file or the
 * command line (where `ps` shows it). Signet-only: Nomad's agent reads the key only from its
 * configuration and `-encrypt`, and has no `NOMAD_` variable for it.
 */
export const CLUSTER_KEY_ENV = 'SIGNET_ENCRYPT';

/**
 * Reads the agent settings that the environment sets, as one configuration input. The agent places
 * it after the configuration files and before the flags, so `-encrypt` still wins over it. A set
 * variable is checked even on a client agent, which does not use the key, because a variable that
 * is present but wrong is a mistake wherever it appears. Error messages never contain the key.
 */
export function agentEnvInput(env: Readonly<Record<string, string | undefined>>): AgentConfigInput {
  const key = env[CLUSTER_KEY_ENV];
  if (key === undefined) return {};
  if (key.trim() === '') {
    throw new AgentConfigError(
      'server.encrypt',
      `invalid ${CLUSTER_KEY_ENV}: it is set but empty; set it to a key that signet operator keygen prints, or unset it`,
    );
  }
  try {
    decodeClusterKey(key);
  } catch (err) {
    throw new AgentConfigError('server.encrypt', `invalid ${CLUSTER_KEY_ENV}: ${(err as Error).message}`);
  }
  return { server: { encrypt: key } };
}

/**
 * Reads the agent settings from `env` as agentEnvInput does, then deletes SIGNET_ENCRYPT from it,
 * also when the value is invalid. Called with `process.env`, this keeps the cluster key out of the
 * environment that every child process inherits.
 */
export function takeAgentEnvInput(env: Record<string, string | undefined>): AgentConfigInput {
  try {
    return agentEnvInput(env);
  } finally {
    delete env[CLUSTER_KEY_ENV];
  }
}
