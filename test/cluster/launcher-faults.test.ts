import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { done, pending, waitFor } from '../../cluster/wait.js';
import {
  killAndRemoveFolders,
  processesUnder,
  processRuns,
  ROOT_LINE,
  runSleeper,
  START_TIMEOUT_MS,
  StartProcess,
  TOKEN_LINE,
} from './support/start-process.js';

/** Names of the launcher's temporary folders in the OS temporary folder. */
/** Cluster folders that a launcher created under `dir`, which it takes as its TMPDIR. */
function clusterFoldersIn(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('signet-cluster-'));
}

describe('cluster/start.ts faults', { timeout: 15 * 60_000 }, () => {
  const launchers: StartProcess[] = [];
  const roots: string[] = [];

  function launch(args: readonly string[], env: Record<string, string> = {}): StartProcess {
    const launcher = new StartProcess(args, env);
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
    await killAndRemoveFolders(roots);
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
    const line = TOKEN_LINE.exec(launcher.output);
    assert.ok(line !== null, 'the banner has the export line');
    const taskPid = await runSleeper(line[1]!, line[2]!, root);

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
      // A TMPDIR of its own, so that clusters of tests running beside this one do not count.
      const scratch = await dataFolder();
      const launcher = launch(args, { TMPDIR: scratch });
      const exit = await launcher.exitWithin(60_000);
      const leftover = clusterFoldersIn(scratch);

      assert.equal(exit?.code, 1, launcher.output);
      assert.equal(launcher.output.trimEnd().split('\n').length, 1, launcher.output);
      assert.match(launcher.output, /invalid HTTP port/);
      assert.deepEqual(leftover, []);
    });
  }

  test('a SIGINT repeated at once is one Ctrl-C', async () => {
    // npm start forwards the terminal's SIGINT, so the launcher gets it twice in quick succession.
    const launcher = launch(['-servers', '3', '-clients', '1']);
    const root = await launcher.ready();
    launcher.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(launcher.running, true, 'the launcher was still stopping the agents');
    launcher.child.kill('SIGINT');
    const exit = await launcher.exitWithin(60_000);

    assert.deepEqual(exit, { code: 0, signal: null }, launcher.output);
    assert.doesNotMatch(launcher.output, /again: exiting now/);
    assert.equal(existsSync(root), false, 'the temporary folder is removed');
  });

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
