import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePorts } from '../../cluster/free-port.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { CLIENT_LOCK_FILE, ClientDataDirLock, DataDirLockedError } from '../../src/client/data-dir-lock.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** A client agent started from source, with its stderr collected. */
interface AgentRun {
  readonly child: ChildProcess;
  stderr: string;
}

function startClient(config: string): AgentRun {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', '-config', config], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const run: AgentRun = { child, stderr: '' };
  child.stderr?.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString('utf8');
  });
  return run;
}

function waitForExit(run: AgentRun, timeoutMs: number): Promise<number | null> {
  return waitFor('the agent to exit', { timeoutMs, intervalMs: 100 }, async () =>
    run.child.exitCode === null && run.child.signalCode === null
      ? pending('still running')
      : done(run.child.exitCode),
  );
}

async function readLockPid(dataDir: string): Promise<number | null> {
  try {
    return (JSON.parse(await readFile(join(dataDir, CLIENT_LOCK_FILE), 'utf8')) as { pid: number }).pid;
  } catch {
    return null;
  }
}

function waitForLockOf(dataDir: string, pid: number | undefined): Promise<true> {
  return waitFor('the lock file', { timeoutMs: 60_000, intervalMs: 100 }, async () =>
    (await readLockPid(dataDir)) === pid ? done(true) : pending('not written yet'),
  );
}

/** Returns the pid of a process that has exited, so that no process runs with it for a while. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString('utf8'));
}

// Two agents on one data_dir are the same node: both run every allocation, so each task runs
// twice, and each agent overwrites the other's task records.
describe('client agent data_dir lock', () => {
  const runs: AgentRun[] = [];
  let dir = '';
  let config = '';
  let dataDir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-client-lock-'));
    dataDir = join(dir, 'data');
    // A port that nothing listens on: the agents start and keep dialing, which is enough here.
    const [unusedPort] = await freePorts(1, '127.0.0.1');
    config = join(dir, 'client.json');
    await writeFile(
      config,
      JSON.stringify({
        name: 'c1',
        data_dir: dataDir,
        client: {
          enabled: true,
          servers: [`127.0.0.1:${unusedPort}`],
          cpu_total_compute: 1000,
          memory_total_mb: 1024,
        },
        plugin: { raw_exec: { config: { enabled: true } } },
      }),
    );
  });
  after(async () => {
    for (const { child } of runs)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('second agent on same data_dir exits', async () => {
    const first = startClient(config);
    runs.push(first);
    await waitForLockOf(dataDir, first.child.pid);

    const second = startClient(config);
    runs.push(second);
    const exitCode = await waitForExit(second, 30_000).catch(() => null);

    assert.equal(first.child.exitCode, null, 'the first agent keeps running');
    assert.equal(exitCode, 1, 'the second agent exits with status 1');
    const lines = second.stderr.trim().split('\n');
    assert.equal(lines.length, 1, second.stderr);
    assert.ok(lines[0]!.includes(dataDir), 'the message names the data_dir');
    assert.ok(lines[0]!.includes(`pid ${first.child.pid}`), 'the message names the pid of the first agent');
    assert.equal(await readLockPid(dataDir), first.child.pid, 'the lock still names the first agent');

    first.child.kill('SIGTERM');
    assert.equal(await waitForExit(first, 30_000), 0);
    assert.equal(existsSync(join(dataDir, CLIENT_LOCK_FILE)), false, 'a stopped agent removes its lock');
  });

  test('lock of a killed agent taken over', async () => {
    const killed = startClient(config);
    runs.push(killed);
    await waitForLockOf(dataDir, killed.child.pid);
    killed.child.kill('SIGKILL');
    await waitForExit(killed, 30_000);
    assert.equal(await readLockPid(dataDir), killed.child.pid, 'SIGKILL leaves the lock file');

    const next = startClient(config);
    runs.push(next);
    await waitForLockOf(dataDir, next.child.pid);

    assert.equal(next.child.exitCode, null, 'the next agent runs');
    next.child.kill('SIGTERM');
    assert.equal(await waitForExit(next, 30_000), 0);
  });
});

describe('ClientDataDirLock', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-lock-unit-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function lockError(dataDir: string): Promise<DataDirLockedError> {
    const err = await ClientDataDirLock.acquire(dataDir).then(
      (lock) => {
        lock.releaseSync();
        return null;
      },
      (caught: unknown) => caught,
    );
    assert.ok(err instanceof DataDirLockedError, `expected DataDirLockedError, got ${String(err)}`);
    return err;
  }

  async function writeLock(dataDir: string, contents: string): Promise<void> {
    await mkdir(join(dataDir, 'client'), { recursive: true });
    await writeFile(join(dataDir, CLIENT_LOCK_FILE), contents);
  }

  test('held lock rejects a second acquire', async () => {
    const dataDir = join(dir, 'held');
    const lock = await ClientDataDirLock.acquire(dataDir);

    const err = await lockError(dataDir);

    assert.equal(err.code, 'DATA_DIR_LOCKED');
    assert.equal(err.pid, process.pid);
    assert.equal(err.dataDir, dataDir);
    lock.releaseSync();
    const again = await ClientDataDirLock.acquire(dataDir);
    again.releaseSync();
  });

  test('dead pid taken over', async () => {
    const dataDir = join(dir, 'dead');
    await writeLock(dataDir, JSON.stringify({ pid: deadPid(), bootId: null }));

    const lock = await ClientDataDirLock.acquire(dataDir);

    assert.equal(await readLockPid(dataDir), process.pid);
    lock.releaseSync();
  });

  // After a crash and a reboot, the recorded pid may belong to another program.
  test('other boot taken over', async () => {
    const dataDir = join(dir, 'reboot');
    await writeLock(dataDir, JSON.stringify({ pid: process.ppid, bootId: 'another-boot' }));

    const lock = await ClientDataDirLock.acquire(dataDir);

    assert.equal(await readLockPid(dataDir), process.pid);
    lock.releaseSync();
  });

  test('damaged lock rejected', async () => {
    const dataDir = join(dir, 'damaged');
    await writeLock(dataDir, 'garbage');

    const err = await lockError(dataDir);

    assert.equal(err.pid, 0);
    assert.equal(await readFile(join(dataDir, CLIENT_LOCK_FILE), 'utf8'), 'garbage', 'the file is kept');
  });
});
