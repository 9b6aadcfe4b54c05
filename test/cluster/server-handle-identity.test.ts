import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { findRepoRoot } from '../../cluster/agent-entry.js';
import { freePorts } from '../../cluster/free-port.js';
import { ServerHandle } from '../../cluster/server-handle.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';

/** Starts an HTTP server on a free port of 127.0.0.1 that replies 200 "" to every request. */
async function impostor(): Promise<Server> {
  const server = createServer((_request, response) => {
    response.setHeader('Content-Type', 'application/json');
    response.end('""');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('ServerHandle readiness', () => {
  // An agent left running from an earlier launch replies on the port that the new agent fails to
  // bind. Its replies must not count as the new agent serving.
  test('reply from another process is not ready', async () => {
    const root = await mkdtemp(join(tmpdir(), 'signet-server-identity-'));
    const other = await impostor();
    const [rpcPort] = await freePorts(1, '127.0.0.1');
    const server = new ServerHandle({
      dir: root,
      spec: {
        name: 's1',
        dataDir: join(root, 'data'),
        host: '127.0.0.1',
        httpPort: (other.address() as AddressInfo).port,
        rpcPort: rpcPort!,
        bootstrapExpect: 1,
        encrypt: generateClusterKey(),
        retryJoin: [],
        logLevel: 'info',
        tuning: {},
        aclEnabled: false,
      },
      entry: 'source',
      repoRoot: findRepoRoot(),
      startTimeoutMs: 60_000,
      stopTimeoutMs: 5_000,
    });
    try {
      await server.configure(server.spec);
      await assert.rejects(server.start(), { code: 'EADDRINUSE' });
    } finally {
      await server.stop();
      other.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
