import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { httpRequest, requestJson } from '../../cluster/http-client.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { CLUSTER_KEY_ENV } from '../../src/server/agent-env.js';
import type { Allocation } from '../../src/structs/allocation.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** True while a process with this pid exists and is not a zombie. */
async function processRuns(pid: number): Promise<boolean> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2, text.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A `signet agent -dev` child with its output collected as it arrives. */
interface DevAgent {
  readonly process: ChildProcess;
  readonly address: string;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** Spawns `signet agent -dev` on free ports, with `env` as its whole environment. */
async function spawnDevAgent(
  env: NodeJS.ProcessEnv = process.env,
  extraArgs: readonly string[] = [],
): Promise<DevAgent> {
  const http = await freePort();
  const rpc = await freePort();
  const agent = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'agent',
      '-dev',
      '-http-port',
      String(http),
      '-rpc-port',
      String(rpc),
      ...extraArgs,
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  agent.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  agent.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return {
    process: agent,
    address: `127.0.0.1:${http}`,
    exited: new Promise((resolve) => agent.once('exit', (code) => resolve(code))),
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** Waits for the management token that the dev agent prints once it has bootstrapped the ACLs. */
function waitForToken(agent: DevAgent): Promise<string> {
  return waitFor<string>('the bootstrap token on stdout', { timeoutMs: 60_000 }, async () => {
    const match = /^Bootstrap token \(management\): (\S+)$/m.exec(agent.stdout());
    return match === null ? pending(agent.stderr().slice(-300) || 'not yet') : done(match[1]!);
  });
}

/** Returns the data folder from the line that names the token file, `(also in DIR/server/dev-bootstrap-token, owner-only)`. */
function devDataDir(stdout: string): string {
  const match = /^\(also in (\S+)\/server\/dev-bootstrap-token, owner-only\)$/m.exec(stdout);
  assert.ok(match !== null, stdout);
  return match[1]!;
}

/**
 * Kills an agent that a failed test left running, and removes its temporary data folder, which
 * only an orderly stop removes.
 */
async function killAndClean(dev: DevAgent | null, dataDir: string | null): Promise<void> {
  if (dev !== null && dev.process.exitCode === null && dev.process.signalCode === null) {
    dev.process.kill('SIGKILL');
    await dev.exited;
  }
  if (dataDir !== null) await rm(dataDir, { recursive: true, force: true });
}

describe('signet agent -dev', { timeout: 120_000 }, () => {
  let child: DevAgent | null = null;
  let dataDir: string | null = null;
  let taskPid = 0;

  after(async () => {
    await killAndClean(child, dataDir);
    if (taskPid !== 0) {
      try {
        process.kill(-taskPid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  test('bootstraps, runs a task, cleans up', async () => {
    const dev = await spawnDevAgent();
    const agent = dev.process;
    child = dev;
    const { address, exited } = dev;
    const printed = await waitForToken(dev);
    const stdout = dev.stdout();
    dataDir = devDataDir(stdout);
    assert.match(stdout, new RegExp(`^export NOMAD_TOKEN=${printed}$`, 'm'));
    const tokenFile = `${dataDir}/server/dev-bootstrap-token`;
    assert.equal((await readFile(tokenFile, 'utf8')).trim(), printed);
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    const headers = { 'X-Nomad-Token': printed };
    // The Raft log and snapshots contain every token secret, and the client folder the node secret.
    for (const folder of ['server', 'server/raft', 'client']) {
      assert.equal((await stat(`${dataDir}/${folder}`)).mode & 0o777, 0o700, folder);
    }

    assert.equal((await httpRequest(address, 'GET', '/v1/agent/self', { headers })).status, 200);
    assert.equal((await httpRequest(address, 'GET', '/v1/agent/self')).status, 403);

    const script = 'echo $$ > $NOMAD_ALLOC_DIR/data/pid; exec sleep 300';
    await requestJson(address, 'PUT', '/v1/jobs', {
      headers,
      body: {
        Job: {
          ID: 'dev-sleeper',
          Type: 'service',
          TaskGroups: [
            {
              Name: 'group',
              Count: 1,
              Tasks: [
                {
                  Name: 'main',
                  Driver: 'raw_exec',
                  Config: { command: '/bin/sh', args: ['-c', script] },
                  Resources: { CPU: 100, MemoryMB: 64 },
                  KillTimeout: 2_000_000_000,
                },
              ],
            },
          ],
        },
      },
    });
    const alloc = await waitFor<Allocation>(
      'the allocation running',
      { timeoutMs: 30_000, intervalMs: 50 },
      async () => {
        const allocs = await requestJson<Allocation[]>(address, 'GET', '/v1/job/dev-sleeper/allocations', {
          headers,
        });
        const running = allocs.find((candidate) => candidate.ClientStatus === 'running');
        return running === undefined
          ? pending(JSON.stringify(allocs.map((candidate) => candidate.ClientStatus)))
          : done(running);
      },
    );
    const nodes = await requestJson<{ ID: string }[]>(address, 'GET', '/v1/nodes', { headers });
    assert.deepEqual(
      nodes.map((node) => node.ID),
      [alloc.NodeID],
    );
    const pidFile = `${dataDir}/alloc/${alloc.ID}/alloc/data/pid`;
    taskPid = await waitFor('the task pid file', { timeoutMs: 10_000 }, async () => {
      const text = (await readFile(pidFile, 'utf8')).trim();
      return text === '' ? pending('empty') : done(Number(text));
    });
    assert.equal(await processRuns(taskPid), true);

    // The management token is printed to stdout once and never reaches the JSON logs.
    const logLines = dev
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    assert.ok(logLines.length > 0);
    assert.equal(dev.stdout().split(printed).length - 1, 2, 'the token line and the export line');
    assert.ok(!dev.stderr().includes(printed));

    agent.kill('SIGTERM');
    assert.equal(await exited, 0, dev.stderr().slice(-500));
    assert.equal(await processRuns(taskPid), false);
    assert.equal(await exists(dataDir), false);
  });
});

describe('signet agent -dev with SIGNET_ENCRYPT', { timeout: 120_000 }, () => {
  let child: DevAgent | null = null;
  let dataDir: string | null = null;

  after(() => killAndClean(child, dataDir));

  test('raw_exec task sees no agent secret', async () => {
    const key = generateClusterKey();
    const dev = await spawnDevAgent({
      ...process.env,
      [CLUSTER_KEY_ENV]: key,
      SIGNET_TOKEN: 'operator-signet-token',
      NOMAD_TOKEN: 'operator-nomad-token',
    });
    child = dev;
    const headers = { 'X-Nomad-Token': await waitForToken(dev) };
    const folder = devDataDir(dev.stdout());
    dataDir = folder;

    // The rename makes the file appear only once env has written all of it.
    const script =
      'env > "$NOMAD_ALLOC_DIR/data/env.tmp" && mv "$NOMAD_ALLOC_DIR/data/env.tmp" "$NOMAD_ALLOC_DIR/data/env"';
    await requestJson(dev.address, 'PUT', '/v1/jobs', {
      headers,
      body: {
        Job: {
          ID: 'env-dump',
          Type: 'batch',
          TaskGroups: [
            {
              Name: 'group',
              Count: 1,
              Tasks: [
                {
                  Name: 'main',
                  Driver: 'raw_exec',
                  Config: { command: '/bin/sh', args: ['-c', script] },
                  Resources: { CPU: 100, MemoryMB: 64 },
                },
              ],
            },
          ],
        },
      },
    });
    const alloc = await waitFor<Allocation>(
      'the allocation complete',
      { timeoutMs: 30_000, intervalMs: 50 },
      async () => {
        const allocs = await requestJson<Allocation[]>(dev.address, 'GET', '/v1/job/env-dump/allocations', {
          headers,
        });
        const complete = allocs.find((candidate) => candidate.ClientStatus === 'complete');
        return complete === undefined
          ? pending(JSON.stringify(allocs.map((candidate) => candidate.ClientStatus)))
          : done(complete);
      },
    );
    const lines = (await readFile(`${folder}/alloc/${alloc.ID}/alloc/data/env`, 'utf8')).split('\n');
    const names = new Set(lines.map((line) => line.slice(0, line.indexOf('='))));

    assert.ok(names.has('NOMAD_ALLOC_ID'), 'the dump is the task environment');
    assert.equal(names.has(CLUSTER_KEY_ENV), false);
    assert.equal(names.has('SIGNET_TOKEN'), false);
    assert.equal(names.has('NOMAD_TOKEN'), false);
    assert.equal(
      lines.some((line) => line.includes(key)),
      false,
      'the cluster key under another name',
    );

    dev.process.kill('SIGTERM');
    assert.equal(await dev.exited, 0, dev.stderr().slice(-500));
    assert.equal(await exists(folder), false);
  });
});

describe('signet agent -dev with -data-dir', { timeout: 180_000 }, () => {
  let child: DevAgent | null = null;
  let dataDir: string | null = null;

  after(async () => {
    await killAndClean(child, dataDir);
  });

  test('restart keeps key and variables', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'signet-dev-kept-'));
    // Without SIGNET_ENCRYPT the dev agent makes its own key, which is what this test is about.
    const env = { ...process.env, [CLUSTER_KEY_ENV]: undefined };
    const first = await spawnDevAgent(env, ['-data-dir', dataDir]);
    child = first;
    const token = await waitForToken(first);
    const headers = { 'X-Nomad-Token': token };
    await requestJson(first.address, 'PUT', '/v1/var/dev/kept', {
      headers,
      body: { Namespace: 'default', Path: 'dev/kept', Items: { answer: '42' } },
    });
    const keyFile = join(dataDir, 'server', 'dev-cluster-key');
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600);
    const key = await readFile(keyFile, 'utf8');
    first.process.kill('SIGTERM');
    assert.equal(await first.exited, 0, first.stderr().slice(-500));
    assert.equal(await exists(dataDir), true);

    const second = await spawnDevAgent(env, ['-data-dir', dataDir]);
    child = second;
    assert.equal(await waitForToken(second), token);
    assert.equal(await readFile(keyFile, 'utf8'), key);
    const variable = await waitFor<{ Items: Record<string, string> }>(
      'the variable of the first run',
      { timeoutMs: 30_000, intervalMs: 100 },
      async () => {
        const response = await httpRequest(second.address, 'GET', '/v1/var/dev/kept', { headers });
        return response.status === 200
          ? done(JSON.parse(response.body) as { Items: Record<string, string> })
          : pending(`${response.status} ${response.body}`);
      },
    );
    assert.deepEqual(variable.Items, { answer: '42' });
    second.process.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.stderr().slice(-500));
  });
});
