import type { TestContext } from 'node:test';

export { parseLogLines } from '../../cluster/agent-log.js';

import { httpRequest, requestJson } from '../../cluster/http-client.js';
import { Cluster, type ClusterOptions, type ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';

/** Per-test deadline: server starts through tsx are slow when two test files share two cores. */
export const CLUSTER_TEST_TIMEOUT_MS = 180_000;

/** A cluster for one test file, with a record of the servers that exited without being signalled. */
export interface TestCluster {
  readonly cluster: Cluster;
  /** One line per server that exited by itself; a test that ends with lines here failed. */
  readonly crashes: string[];
}

/** Starts `servers` agents in a fresh temporary folder; call `cluster.stop()` in `after`. */
export async function startTestCluster(
  servers = 3,
  options: Partial<Omit<ClusterOptions, 'servers' | 'onUnexpectedExit'>> = {},
): Promise<TestCluster> {
  const crashes: string[] = [];
  const cluster = await Cluster.start({
    servers,
    startTimeoutMs: 90_000,
    ...options,
    onUnexpectedExit(server, exit) {
      crashes.push(`${server.name} exited by itself (code ${exit.code}, signal ${exit.signal})`);
    },
  });
  return { cluster, crashes };
}

/**
 * Wraps a test body so that a failure prints the end of every server's log as a diagnostic,
 * which is usually the only way to see why a process misbehaved.
 */
export function withServerLogs(
  servers: () => readonly ServerHandle[],
  body: (t: TestContext) => Promise<void>,
): (t: TestContext) => Promise<void> {
  return async (t) => {
    try {
      await body(t);
    } catch (err) {
      // One diagnostic per line, because reporters escape the newlines inside one.
      for (const server of servers()) {
        t.diagnostic(`--- ${server.name} (${server.state}) ${server.logPath} ---`);
        for (const line of (await server.logTail(40)).split('\n')) t.diagnostic(`${server.name} ${line}`);
      }
      throw err;
    }
  };
}

/** Returns the Raft term that `server` reports in GET /v1/agent/self (stats.raft.term, as Nomad's). */
export async function raftTerm(server: ServerHandle): Promise<number> {
  const self = await requestJson<{ stats: { raft: { term: string } } }>(
    server.httpAddr,
    'GET',
    '/v1/agent/self',
  );
  return Number(self.stats.raft.term);
}

/**
 * Waits until the leader accepts a variable write (of `ready` in the default namespace). A new
 * leader creates the first root key just after it takes office, and until then every variable
 * write fails with 500 before it is proposed.
 */
export async function waitForRootKey(cluster: Cluster, timeoutMs = 60_000): Promise<void> {
  await waitFor('the leader to create its root key', { timeoutMs, intervalMs: 100 }, async () => {
    const leader = await cluster.waitForLeader(timeoutMs);
    const response = await httpRequest(leader.httpAddr, 'PUT', '/v1/var/ready?namespace=default', {
      headers: cluster.authHeaders(),
      body: { Items: { value: 'ready' } },
      timeoutMs: 10_000,
    });
    return response.status === 200 ? done(undefined) : pending(`status ${response.status}: ${response.body}`);
  });
}
