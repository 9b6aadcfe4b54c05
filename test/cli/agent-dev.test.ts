import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { access, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { after, describe, test } from 'node:test';
import { httpRequest, requestJson } from '../../cluster/http-client.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
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

describe('signet agent -dev', { timeout: 120_000 }, () => {
  let child: ChildProcess | null = null;
  let taskPid = 0;
  let stdout = '';
  let stderr = '';

  after(() => {
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (taskPid !== 0) {
      try {
        process.kill(-taskPid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  test('bootstraps, runs a task, cleans up', async () => {
    const http = await freePort();
    const rpc = await freePort();
    const address = `127.0.0.1:${http}`;
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
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = agent;
    agent.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    agent.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)));

    const printed = await waitFor<string>(
      'the bootstrap token on stdout',
      { timeoutMs: 60_000 },
      async () => {
        const match = /^Bootstrap token \(management\): (\S+)$/m.exec(stdout);
        return match === null ? pending(stderr.slice(-300) || 'not yet') : done(match[1]!);
      },
    );
    assert.match(stdout, new RegExp(`^export NOMAD_TOKEN=${printed}$`, 'm'));
    const fileMatch = /^\(also in (\S+), owner-only\)$/m.exec(stdout);
    assert.ok(fileMatch !== null, stdout);
    const tokenFile = fileMatch[1]!;
    assert.ok(tokenFile.endsWith('/server/dev-bootstrap-token'), tokenFile);
    const dataDir = tokenFile.slice(0, -'/server/dev-bootstrap-token'.length);
    assert.equal((await readFile(tokenFile, 'utf8')).trim(), printed);
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    const headers = { 'X-Nomad-Token': printed };

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
    const logLines = stdout.split('\n').filter((line) => line.startsWith('{'));
    assert.ok(logLines.length > 0);
    assert.equal(stdout.split(printed).length - 1, 2, 'the token line and the export line');
    assert.ok(!stderr.includes(printed));

    agent.kill('SIGTERM');
    assert.equal(await exited, 0, stderr.slice(-500));
    assert.equal(await processRuns(taskPid), false);
    assert.equal(await exists(dataDir), false);
  });
});
