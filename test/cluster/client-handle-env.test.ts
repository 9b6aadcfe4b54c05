import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ClientHandle } from '../../cluster/client-handle.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';

/** Returns the names in a process's initial environment, as the kernel recorded it at exec. */
async function environmentNames(pid: number): Promise<Set<string>> {
  const text = await readFile(`/proc/${pid}/environ`, 'utf8');
  return new Set(text.split('\0').map((entry) => entry.slice(0, entry.indexOf('='))));
}

describe('ClientHandle', () => {
  test('starts agents without agent secrets', async () => {
    const root = await mkdtemp(join(tmpdir(), 'signet-client-handle-'));
    const secrets = {
      SIGNET_ENCRYPT: generateClusterKey(),
      SIGNET_TOKEN: 'operator-signet-token',
      NOMAD_TOKEN: 'operator-nomad-token',
    };
    const saved = Object.keys(secrets).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, secrets);
    // No server listens there: the agent only has to run long enough to be inspected.
    const client = new ClientHandle(join(root, 'client-1'), 'client-1', { stopTimeoutMs: 5_000 });
    try {
      await client.writeConfig(['127.0.0.1:1']);
      client.start();
      const names = await environmentNames(client.pid!);

      assert.ok(names.has('PATH'), 'the environment was read');
      for (const name of Object.keys(secrets)) assert.equal(names.has(name), false, name);
    } finally {
      await client.stop();
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await rm(root, { recursive: true, force: true });
    }
  });
});
