import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { requestJson } from '../../cluster/http-client.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { parseProcStat } from '../../src/client/drivers/proc-stat.js';
import type { Allocation } from '../../src/structs/allocation.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
/** Deadline for a start through tsx while other test files share 2 cores. */
const START_TIMEOUT_MS = 150_000;
const BANNER_END = 'press Ctrl-C';
const ROOT_LINE = /^(?:started|restarted) .* in (\S+) \(/m;
const ADDRESS_LINE = /^\s*export NOMAD_ADDR=http:\/\/(\S+) NOMAD_TOKEN=(\S+)$/m;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One run of `cluster/start.ts` in a process group of its own, as a terminal runs it. */
class Launcher {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<Exit>;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
    delete childEnv.NODE_TEST_CONTEXT;
    this.child = spawn(process.execPath, ['--import', 'tsx', 'cluster/start.ts', ...args], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolveExit) => {
      this.child.once('close', (code, signal) => resolveExit({ code, signal }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the end of the banner and returns the cluster's folder. */
  ready(): Promise<string> {
    return waitFor('the banner', { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 }, async () => {
      if (!this.running) throw new Error(`start.ts exited early:\n${this.output}`);
      const root = ROOT_LINE.exec(this.output);
      if (root === null || !this.output.includes(BANNER_END)) return pending(this.output.slice(-300));
      return done(root[1]!);
    });
  }

  /** Waits until the launcher exits or prints its banner, and returns the exit or null after a banner. */
  exitOrBanner(timeoutMs: number): Promise<Exit | null> {
    return waitFor('an exit or the banner', { timeoutMs, intervalMs: 100 }, async () => {
      if (!this.running) return done(await this.exited);
      return this.output.includes(BANNER_END) ? done(null) : pending(this.output.slice(-300));
    });
  }

  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }

  /** Resolves with the exit, or null when the launcher still runs after `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolveLate) => {
      timer = setTimeout(() => resolveLate(null), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Pids of live processes whose command line names `root` or whose working folder is inside it. */
function processesUnder(root: string, commandPart = ''): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat === null || stat.state === 'Z' || stat.state === 'X') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if ((cmdline.includes(root) || cwd.startsWith(root)) && cmdline.includes(commandPart))
        found.push(Number(name));
    } catch {
      // The process exited while it was read.
    }
  }
  return found;
}

function processRuns(pid: number): boolean {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
  } catch {
    return false;
  }
}

/** A raw_exec task that writes its pid into the allocation folder and sleeps. */
const SLEEPER_JOB = {
  Job: {
    ID: 'sleeper',
    Type: 'service',
    TaskGroups: [
      {
        Name: 'g',
        Count: 1,
        Tasks: [
          {
            Name: 'sleep',
            Driver: 'raw_exec',
            Config: {
              command: '/bin/sh',
              args: ['-c', 'echo $$ > "$NOMAD_ALLOC_DIR/data/pid"; exec sleep 300'],
            },
            Resources: { CPU: 100, MemoryMB: 32 },
          },
        ],
      },
    ],
  },
};

/** Runs the sleeper job and returns the pid of its task once it runs. */
async function runSleeper(output: string, root: string): Promise<number> {
  const line = ADDRESS_LINE.exec(output);
  assert.ok(line !== null, 'the banner has the export line');
  const [, address, token] = line;
  const headers = { 'X-Nomad-Token': token! };
  await requestJson(address!, 'PUT', '/v1/jobs', { body: SLEEPER_JOB, headers });
  const alloc = await waitFor<Allocation>(
    'the sleeper to run',
    { timeoutMs: 90_000, intervalMs: 200 },
    async () => {
      const allocs = await requestJson<Allocation[]>(address!, 'GET', '/v1/job/sleeper/allocations', {
        headers,
      });
      const running = allocs.find((candidate) => candidate.ClientStatus === 'running');
      return running === undefined ? pending(allocs.map((a) => a.ClientStatus).join(', ')) : done(running);
    },
  );
  const pidFile = join(root, 'client-1', 'data', 'alloc', alloc.ID, 'alloc', 'data', 'pid');
  return waitFor<number>('the task to write its pid', { timeoutMs: 30_000 }, async () => {
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    return /^\d+\n$/.test(text) ? done(Number(text)) : pending('no pid yet');
  });
}

/** Names of the launcher's temporary folders in the OS temporary folder. */
function temporaryClusterFolders(): Set<string> {
  return new Set(readdirSync(tmpdir()).filter((name) => name.startsWith('signet-cluster-')));
}

describe('cluster/start.ts faults', { timeout: 15 * 60_000 }, () => {
  const launchers: Launcher[] = [];
  const roots: string[] = [];

  function launch(args: readonly string[], env: Record<string, string> = {}): Launcher {
    const launcher = new Launcher(args, env);
    launchers.push(launcher);
    return launcher;
  }

  async function dataFolder(): Promise<string> {
    const root = await mkdtemp(join(tmpdir(), 'signet-launcher-faults-'));
    roots.push(root);
    return root;
  }

  after(async () => {
    for (const launcher of launchers) {
      if (launcher.running) {
        process.kill(-launcher.child.pid!, 'SIGKILL');
        await launcher.exited;
      }
    }
    for (const root of roots) {
      for (const pid of processesUnder(root)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await rm(root, { recursive: true, force: true });
    }
  });

  // A kept folder whose agents still run (a second terminal, or orphans of a SIGKILLed launcher)
  // must be rejected. Without that check, the second launcher's servers fail on the taken
  // ports, but its readiness probe reaches the first launcher's servers, so it goes on and
  // starts a second client agent on the same data.
  test('second launcher on busy folder', async () => {
    const data = await dataFolder();
    const first = launch(['-servers', '1', '-clients', '1', '-acl', '-data', data]);
    await first.ready();

    const second = launch(['-servers', '1', '-clients', '1', '-acl', '-data', data]);
    const exit = await second.exitOrBanner(START_TIMEOUT_MS);

    assert.equal(processesUnder(data, 'client.json').length, 1, 'one client agent per client folder');
    assert.notEqual(exit, null, `the second launcher started:\n${second.output}`);
    assert.equal(exit?.code, 1);
  });

  // Closing the terminal sends SIGHUP to the foreground group: the agents die, the tasks lead
  // process groups of their own and outlive them unless the launcher kills them.
  test('SIGHUP leaves no task running', async () => {
    const launcher = launch(['-servers', '1', '-clients', '1', '-acl']);
    const root = await launcher.ready();
    roots.push(root);
    const taskPid = await runSleeper(launcher.output, root);

    launcher.signalGroup('SIGHUP');
    await launcher.exitWithin(60_000);
    const stopped = await waitFor('the task to stop', { timeoutMs: 15_000, intervalMs: 100 }, async () =>
      processRuns(taskPid) ? pending(`task ${taskPid} runs`) : done(true),
    ).catch(() => false);

    assert.equal(stopped, true, `task ${taskPid} still runs after SIGHUP`);
  });

  // The bootstrap waits for a leader among servers that the signal handler already stopped.
  test('SIGINT during ACL bootstrap exits promptly', async () => {
    const data = await dataFolder();
    const launcher = launch(['-servers', '3', '-acl', '-data', data]);
    await waitFor('the token file', { timeoutMs: START_TIMEOUT_MS, intervalMs: 10 }, async () =>
      existsSync(join(data, 'bootstrap-token')) ? done(true) : pending('no token file yet'),
    );

    launcher.signalGroup('SIGINT');
    const exit = await launcher.exitWithin(15_000);

    assert.notEqual(exit, null, `still running 15 s after SIGINT:\n${launcher.output}`);
    assert.equal(exit?.code, 0);
  });

  // `export SIGNET_ENCRYPT=...` for docker compose in the same shell must not reach the agents:
  // it would override the key in each config.json, and a later start without it cannot unwrap
  // the root keys.
  test('agents ignore caller SIGNET_ENCRYPT', async () => {
    const launcher = launch(['-servers', '1'], { SIGNET_ENCRYPT: 'not-a-cluster-key' });
    const exit = await launcher.exitOrBanner(START_TIMEOUT_MS);
    // A failed start keeps its temporary folder and names it.
    const root = ROOT_LINE.exec(launcher.output)?.[1] ?? /folders kept in (\S+)\)/.exec(launcher.output)?.[1];
    if (root !== undefined) roots.push(root);

    assert.equal(exit, null, `the launcher failed:\n${launcher.output}`);
    launcher.signalGroup('SIGINT');
    await launcher.exitWithin(60_000);
  });

  // A token file that is not a UUID can never work, so retrying the bootstrap for a minute only
  // delays the error.
  test('malformed token file fails fast', async () => {
    const data = await dataFolder();
    const first = launch(['-servers', '1', '-acl', '-data', data]);
    await first.ready();
    first.signalGroup('SIGINT');
    assert.equal((await first.exitWithin(60_000))?.code, 0);
    await writeFile(join(data, 'bootstrap-token'), 'not-a-uuid\n', { mode: 0o600 });

    const second = launch(['-servers', '1', '-acl', '-data', data]);
    const started = performance.now();
    const exit = await second.exitOrBanner(START_TIMEOUT_MS);
    const seconds = (performance.now() - started) / 1000;

    assert.notEqual(exit, null);
    assert.equal(exit?.code, 1);
    assert.ok(seconds < 30, `the error took ${seconds.toFixed(1)} s`);
    assert.match(second.output, /bootstrap-token/);
  });

  // When every agent crashed, the launcher has nothing left to run. An exit status of 0 would
  // read as a clean stop.
  test('exit status after every agent crashed', async () => {
    const data = await dataFolder();
    const launcher = launch(['-servers', '1', '-data', data]);
    await launcher.ready();
    for (const pid of processesUnder(data, 'agent')) process.kill(pid, 'SIGKILL');

    const exit = await launcher.exitWithin(30_000);
    if (exit === null) {
      launcher.signalGroup('SIGINT');
      await launcher.exitWithin(60_000);
      return;
    }
    assert.notEqual(exit.code, 0, `exited 0 after every agent crashed:\n${launcher.output}`);
  });

  // SIGKILL of the launcher alone leaves its agents running, as the README documents. A new launcher on
  // that folder takes over the dead launcher's lock, but must not start beside those agents.
  test('orphaned agents block a restart', async () => {
    const data = await dataFolder();
    const first = launch(['-servers', '1', '-clients', '1', '-acl', '-data', data]);
    await first.ready();
    first.child.kill('SIGKILL');
    await first.exited;
    const orphans = processesUnder(data, 'agent');
    assert.equal(orphans.length, 2, 'the server and the client outlive their launcher');

    const second = launch(['-servers', '1', '-clients', '1', '-acl', '-data', data]);
    const exit = await second.exitOrBanner(START_TIMEOUT_MS);

    assert.equal(processesUnder(data, 'client.json').length, 1, 'one client agent per client folder');
    assert.notEqual(exit, null, `the second launcher started:\n${second.output}`);
    assert.equal(exit?.code, 1);
    assert.match(second.output, /may still run/);
  });

  // Flag and folder errors end the launcher before any agent starts: one line, exit 1, and no
  // temporary folder left behind.
  for (const [label, args] of [
    ['HTTP port above 65535', ['-http-port', '70000']],
    ['derived RPC port above 65535', ['-servers', '1', '-http-port', '65535']],
  ] as const) {
    test(`${label} is rejected`, async () => {
      const before = temporaryClusterFolders();
      const launcher = launch(args);
      const exit = await launcher.exitWithin(60_000);
      const leftover = [...temporaryClusterFolders()].filter((name) => !before.has(name));

      assert.equal(exit?.code, 1, launcher.output);
      assert.equal(launcher.output.trimEnd().split('\n').length, 1, launcher.output);
      assert.match(launcher.output, /invalid HTTP port/);
      assert.deepEqual(leftover, []);
    });
  }

  test('data path that is a file is rejected', async () => {
    const folder = await dataFolder();
    const file = join(folder, 'a-file');
    await writeFile(file, 'x');
    const launcher = launch(['-data', file]);
    const exit = await launcher.exitWithin(60_000);

    assert.equal(exit?.code, 1, launcher.output);
    assert.equal(launcher.output.trimEnd().split('\n').length, 1, launcher.output);
    assert.ok(launcher.output.includes(`${file} is not a folder`), launcher.output);
    assert.doesNotMatch(launcher.output, /EEXIST/);
  });

  test('bad kept config names its file', async () => {
    const data = await dataFolder();
    await mkdir(join(data, 's1'));
    const config = join(data, 's1', 'config.json');
    await writeFile(config, '{oops');
    const launcher = launch(['-data', data]);
    const exit = await launcher.exitWithin(60_000);

    assert.equal(exit?.code, 1, launcher.output);
    assert.equal(launcher.output.trimEnd().split('\n').length, 1, launcher.output);
    assert.ok(launcher.output.includes(config), launcher.output);
  });

  // A kept folder restarts the cluster it contains. A different -servers must be reported, not dropped.
  test('servers flag on kept folder is reported', async () => {
    const data = await dataFolder();
    const first = launch(['-servers', '1', '-data', data]);
    await first.ready();
    first.signalGroup('SIGINT');
    assert.equal((await first.exitWithin(60_000))?.code, 0);

    const second = launch(['-servers', '3', '-data', data]);
    await second.ready();

    assert.match(second.output, /-servers 3 ignored/);
    second.signalGroup('SIGINT');
    assert.equal((await second.exitWithin(60_000))?.code, 0);
  });
});
