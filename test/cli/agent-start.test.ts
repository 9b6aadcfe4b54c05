import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';

const run = promisify(execFile);

async function agent(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', ...args]);
    return { code: 0, stderr: '' };
  } catch (err) {
    const failure = err as { code: number; stderr: string };
    return { code: failure.code, stderr: failure.stderr };
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('signet agent refuses to start with a bad configuration', async () => {
  const root = await mkdtemp(join(tmpdir(), 'signet-agent-start-'));
  after(() => rm(root, { recursive: true, force: true }));
  const key = generateClusterKey();

  test('names the missing cluster key, without starting anything', async () => {
    const result = await agent(['-server', '-data-dir', join(root, 'a')]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /missing server\.encrypt/);
  });

  test('names an unknown key of the file and the file', async () => {
    const file = join(root, 'typo.hcl');
    await writeFile(file, `data_dir = "${join(root, 'b')}"\nports { htp = 1 }\n`);
    const result = await agent(['-server', '-config', file]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /ports\.htp/);
    assert.ok(result.stderr.includes(file));
  });

  test('names a bad flag value', async () => {
    const result = await agent([
      '-server',
      '-data-dir',
      join(root, 'c'),
      '-encrypt',
      key,
      '-bootstrap-expect',
      'three',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /bootstrap-expect "three"/);
  });

  test('never prints the cluster key when it is malformed', async () => {
    const bad = 'c2VjcmV0LWtleS10aGF0LWlzLXRvby1zaG9ydA==';
    const result = await agent(['-server', '-data-dir', join(root, 'd'), '-encrypt', bad]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /server\.encrypt/);
    assert.ok(!result.stderr.includes(bad), result.stderr);
  });

  test('reports a busy port and exits 1', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = busy.address() as { port: number };
      const http = await freePort();
      const config = join(root, 'busy.json');
      await writeFile(
        config,
        JSON.stringify({
          data_dir: join(root, 'e'),
          bind_addr: '127.0.0.1',
          ports: { http, rpc: port },
          server: { enabled: true, encrypt: key },
        }),
      );
      const result = await agent(['-config', config]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /cannot start the server/);
      assert.match(result.stderr, /EADDRINUSE|address already in use/);
    } finally {
      busy.close();
    }
  });

  test('a single server elects itself and stops cleanly on SIGTERM', async () => {
    const config = join(root, 'single.json');
    const http = await freePort();
    const rpc = await freePort();
    // A server folder that others may read, as earlier servers created it under umask 022.
    const serverDir = join(root, 'f', 'server');
    await mkdir(serverDir, { recursive: true });
    await chmod(serverDir, 0o755);
    await writeFile(
      config,
      JSON.stringify({
        name: 'solo',
        data_dir: join(root, 'f'),
        bind_addr: '127.0.0.1',
        ports: { http, rpc },
        server: { enabled: true, bootstrap_expect: 1, encrypt: key },
      }),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'agent', '-config', config],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const leader = await waitFor('the single server to elect itself', { timeoutMs: 20_000 }, async () => {
        const known = await fetch(`http://127.0.0.1:${http}/v1/status/leader`)
          .then((response) => response.json() as Promise<string>)
          .catch(() => '');
        return known === '' ? pending('no leader yet') : done(known);
      });
      assert.equal(leader, `127.0.0.1:${rpc}`);
      assert.equal((await stat(serverDir)).mode & 0o777, 0o700);
      assert.equal((await stat(join(serverDir, 'raft'))).mode & 0o777, 0o700);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const warnings = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; path?: string; mode?: string })
      .filter((entry) => entry.level === 40 && entry.path === serverDir);
    assert.deepEqual(
      warnings.map((entry) => entry.mode),
      ['755'],
    );
  });
});
