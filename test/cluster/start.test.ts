import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  type FileHandle,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bootstrapAlreadyDone } from '../../cluster/acl-bootstrap.js';
import { parseLogLines } from '../../cluster/agent-log.js';
import { httpRequest, requestJson } from '../../cluster/http-client.js';
import { readTokenFile, writeTokenFile } from '../../cluster/token-file.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS } from './fixture.js';
import {
  killAndRemoveFolders,
  processesUnder,
  processRuns,
  REPO_ROOT,
  runSleeper,
  START_TIMEOUT_MS,
  StartProcess,
} from './support/start-process.js';

/** Opens every agent's log, so they stay readable after the launcher removes the folder. */
async function openLogs(root: string): Promise<Map<string, FileHandle>> {
  const logs = new Map<string, FileHandle>();
  for (const agent of ['s1', 's2', 's3', 'client-1'])
    logs.set(agent, await open(join(root, agent, 'agent.log'), 'r'));
  return logs;
}

/** Stops whatever a failed test left behind, by the folders the processes run in. */
async function cleanUp(runs: readonly StartProcess[], roots: readonly string[]): Promise<void> {
  for (const run of runs) {
    if (run.child.exitCode !== null || run.child.signalCode !== null) continue;
    run.child.kill('SIGKILL');
    await run.exited;
  }
  await killAndRemoveFolders(roots);
}

describe('cluster/start.ts with clients and ACLs', { timeout: CLUSTER_TEST_TIMEOUT_MS * 2 }, () => {
  const runs: StartProcess[] = [];
  const roots: string[] = [];
  after(() => cleanUp(runs, roots));

  function start(args: readonly string[]): StartProcess {
    const run = new StartProcess(args);
    runs.push(run);
    return run;
  }

  test('token works, task runs, SIGINT cleans up', async () => {
    const run = start(['-servers', '3', '-clients', '1', '-acl']);
    const ready = await run.readyWithToken();
    const root = ready.root;
    roots.push(root);
    assert.notEqual(ready.address.split(':')[1], '4646', 'the test leaves 4646 to npm start');
    assert.equal(run.output.split(ready.token).length - 1, 1, 'the token is printed once');

    const file = join(root, 'bootstrap-token');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await readFile(file, 'utf8')).trim(), ready.token);
    assert.equal(existsSync(`${file}.tmp`), false, 'no temporary token file is left');

    const self = await requestJson<{ Type: string }>(ready.address, 'GET', '/v1/acl/token/self', {
      headers: { 'X-Nomad-Token': ready.token },
    });
    assert.equal(self.Type, 'management');
    assert.equal((await httpRequest(ready.address, 'GET', '/v1/jobs')).status, 403, 'ACLs are on');

    const taskPid = await runSleeper(ready.address, ready.token, root);
    assert.equal(processRuns(taskPid), true);
    const agents = processesUnder(root);
    assert.ok(agents.length >= 5, `3 servers, a client and a task run under ${root}: ${agents.join(', ')}`);

    const logs = await openLogs(root);
    try {
      const exit = await run.interrupt();
      assert.deepEqual(exit, { code: 0, signal: null }, run.output.slice(-2000));
      assert.deepEqual(processesUnder(root), [], 'no agent or task process is left');
      assert.equal(processRuns(taskPid), false, 'the task was killed');
      assert.equal(existsSync(root), false, 'the temporary folder is removed');

      for (const [agent, log] of logs) {
        const text = (await log.readFile()).toString('utf8');
        assert.equal(text.includes(ready.token), false, `the token is not in the log of ${agent}`);
        const stops = parseLogLines(text).filter((line) => line.msg === 'stopping the agent');
        assert.deepEqual(
          stops.map((line) => line.signal),
          ['SIGTERM'],
          `the launcher stopped ${agent} with SIGTERM`,
        );
      }
    } finally {
      for (const log of logs.values()) await log.close();
    }
  });

  test('kept -data folder restarts with its token', async () => {
    const root = await mkdtemp(join(tmpdir(), 'signet-start-'));
    roots.push(root);
    const data = join(root, 'cluster');
    let run = start(['-servers', '3', '-clients', '1', '-acl', '-data', data]);
    const first = await run.readyWithToken();
    assert.deepEqual(await run.interrupt(true), { code: 0, signal: null }, run.output.slice(-2000));
    assert.doesNotMatch(run.output, /exited by itself/, 'agents stopped by Ctrl-C are no crash');
    assert.equal(existsSync(join(data, 'bootstrap-token')), true, 'the folder and its token file are kept');
    assert.deepEqual(processesUnder(data), []);
    // A file whose mode was loosened, or that was created by hand, is narrowed at the next start.
    await chmod(join(data, 'bootstrap-token'), 0o644);

    run = start(['-servers', '3', '-clients', '1', '-acl', '-data', data]);
    const second = await run.readyWithToken();
    assert.match(run.output, /^restarted 3 servers and 1 client in /m);
    assert.equal(second.token, first.token);
    assert.equal((await stat(join(data, 'bootstrap-token'))).mode & 0o777, 0o600);
    assert.equal(second.address, first.address, 'the kept servers keep their ports');
    const self = await requestJson<{ Type: string }>(second.address, 'GET', '/v1/acl/token/self', {
      headers: { 'X-Nomad-Token': second.token },
    });
    assert.equal(self.Type, 'management');
    assert.deepEqual(await run.interrupt(), { code: 0, signal: null }, run.output.slice(-2000));
    assert.deepEqual(processesUnder(data), []);
  });
});

describe('cluster/start.ts on a taken fixed port', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  test('exits 1, suggests free ports, leaves no folder', async () => {
    // The launcher makes its temporary folder under TMPDIR, so a fresh TMPDIR shows what it left.
    const tmp = await mkdtemp(join(tmpdir(), 'signet-start-taken-'));
    const holder = createServer();
    await new Promise<void>((resolveListen) => holder.listen(0, '127.0.0.1', resolveListen));
    const { port } = holder.address() as AddressInfo;
    try {
      const run = new StartProcess(['-servers', '3', '-clients', '1', '-acl', '-http-port', String(port)], {
        TMPDIR: tmp,
      });
      const timer = setTimeout(() => run.child.kill('SIGKILL'), START_TIMEOUT_MS);
      const exit = await run.exited.finally(() => clearTimeout(timer));

      assert.deepEqual(exit, { code: 1, signal: null }, run.output.slice(-2000));
      assert.match(run.output, new RegExp(`port 127\\.0\\.0\\.1:${port} for s1 is taken`));
      assert.ok(run.output.includes('npm run cluster -- -servers 3 -clients 1 -acl'), run.output);
      assert.doesNotMatch(run.output, /folders kept in/);
      // tsx keeps its own cache under TMPDIR too, so only the launcher's folders count.
      const clusterFolders = (await readdir(tmp)).filter((name) => name.startsWith('signet-cluster-'));
      assert.deepEqual(clusterFolders, [], 'the temporary cluster folder is removed');
    } finally {
      await new Promise<void>((resolveClose) => holder.close(() => resolveClose()));
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

describe('launcher process exit', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  test('exit hook kills agents and task', async () => {
    // Exits without stop(), so only the launcher's exit hook can end the agents and the task.
    const script = `
      import { Cluster } from ${JSON.stringify(join(REPO_ROOT, 'cluster', 'launcher.ts'))};
      const cluster = await Cluster.start({ servers: 1, clients: 1, handleSignals: false });
      console.log(JSON.stringify({ root: cluster.root, address: cluster.servers()[0].httpAddr }));
      process.stdin.once('data', () => process.exit(0));
    `;
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolveExit) => child.once('close', resolveExit));
    let root = '';
    try {
      const started = await waitFor<{ root: string; address: string }>(
        'the launcher to start',
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 },
        async () => {
          if (child.exitCode !== null) throw new Error(`the launcher exited early:\n${output}`);
          const line = /^\{.*\}$/m.exec(output);
          return line === null ? pending(output.slice(-300)) : done(JSON.parse(line[0]));
        },
      );
      root = started.root;
      const taskPid = await runSleeper(started.address, '', root);
      const agents = processesUnder(root);
      assert.ok(agents.length >= 3, `a server, a client and a task run under ${root}: ${agents.join(', ')}`);

      child.stdin!.write('exit\n');
      assert.equal(await exited, 0, output.slice(-2000));
      await waitFor('every agent and task to end', { timeoutMs: 10_000, intervalMs: 50 }, async () => {
        const left = processesUnder(root);
        return left.length === 0 ? done(undefined) : pending(`left: ${left.join(', ')}`);
      });
      assert.equal(processRuns(taskPid), false, 'the task was killed');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (root !== '') await cleanUp([], [root]);
    }
  });
});

describe('bootstrap token file', () => {
  const folders: string[] = [];
  after(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  const FIRST_SECRET = '0f6a1a2e-3b4c-4d5e-8f60-718293a4b5c6';
  const SECOND_SECRET = '1f6a1a2e-3b4c-4d5e-8f60-718293a4b5c6';
  const KEPT_SECRET = '2f6a1a2e-3b4c-4d5e-8f60-718293a4b5c6';

  async function freshFolder(): Promise<string> {
    const folder = await mkdtemp(join(tmpdir(), 'signet-token-file-'));
    folders.push(folder);
    return folder;
  }

  test('written with mode 0600, no temporary left', async () => {
    const folder = await freshFolder();
    const file = join(folder, 'bootstrap-token');
    await writeTokenFile(file, FIRST_SECRET);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(folder), ['bootstrap-token']);
    assert.equal(await readTokenFile(file), FIRST_SECRET);
  });

  test('leftover temporary file is replaced', async () => {
    const folder = await freshFolder();
    const file = join(folder, 'bootstrap-token');
    // A crash between the write and the rename leaves the temporary file, perhaps with loose bits.
    await writeFile(`${file}.tmp`, 'half', { mode: 0o644 });
    await chmod(`${file}.tmp`, 0o644);
    await writeTokenFile(file, SECOND_SECRET);
    assert.deepEqual(await readdir(folder), ['bootstrap-token']);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(await readFile(file, 'utf8'), `${SECOND_SECRET}\n`);
  });

  test('read narrows an existing file to 0600', async () => {
    const folder = await freshFolder();
    const file = join(folder, 'bootstrap-token');
    await writeFile(file, `${KEPT_SECRET}\n`);
    await chmod(file, 0o644);
    assert.equal(await readTokenFile(file), KEPT_SECRET);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test('missing file reads as null', async () => {
    const folder = await freshFolder();
    assert.equal(await readTokenFile(join(folder, 'bootstrap-token')), null);
  });

  // A secret that is not a UUID can never bootstrap or match a token, so it is an error at once,
  // and the error names the file to fix. The launcher never writes an empty file (it renames a
  // synced temporary file), so an empty one was emptied by hand.
  for (const [label, content] of [
    ['empty', '\n'],
    ['not a UUID', 'garbage-not-a-uuid\n'],
  ] as const) {
    test(`${label} file is rejected, naming it`, async () => {
      const folder = await freshFolder();
      const file = join(folder, 'bootstrap-token');
      await writeFile(file, content, { mode: 0o600 });
      await assert.rejects(readTokenFile(file), { code: 'TOKEN_FILE_INVALID', file });
    });
  }

  test('folder in place of the file is rejected, naming it', async () => {
    const folder = await freshFolder();
    const file = join(folder, 'bootstrap-token');
    await mkdir(file);
    await assert.rejects(readTokenFile(file), { code: 'TOKEN_FILE_INVALID', file });
  });
});

describe('bootstrapAlreadyDone', () => {
  const cases: readonly [status: number, body: string, expected: boolean][] = [
    [400, 'ACL bootstrap already done (reset index: 7)', true],
    [400, 'ACL support disabled', false],
    [400, 'Invalid bootstrap reset index (specified 3, reset index: 7)', false],
    [400, 'invalid acl token: BootstrapSecret must be a UUID, got a 4-character string', false],
    [500, 'ACL bootstrap already done (reset index: 7)', false],
    [200, '', false],
  ];
  for (const [status, body, expected] of cases) {
    test(`${status} ${body.slice(0, 40) || '(empty)'}`, () => {
      assert.equal(bootstrapAlreadyDone(status, body), expected);
    });
  }
});
