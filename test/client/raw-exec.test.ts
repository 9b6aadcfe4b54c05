import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { DriverError, type TaskHandle } from '../../src/client/drivers/driver.js';
import { readProcStat } from '../../src/client/drivers/proc-stat.js';
import { RawExecDriver } from '../../src/client/drivers/raw-exec.js';
import {
  ALLOC_ID,
  isRunning,
  killStartedGroups,
  makeContext,
  makeDataDir,
  makeTask,
  readText,
  removeDataDir,
  trackGroup,
  waitFor,
} from './driver-support.js';

const SH = '/bin/sh';

function pidOf(handle: TaskHandle): number {
  const pid = handle.state().data.pid;
  assert.equal(typeof pid, 'number');
  return pid as number;
}

describe('raw_exec driver', () => {
  let dataDir: string;
  const driver = new RawExecDriver({ enabled: true, pollIntervalMs: 20 });

  before(async () => {
    dataDir = await makeDataDir();
  });
  afterEach(() => killStartedGroups());
  after(async () => {
    killStartedGroups();
    await removeDataDir(dataDir);
  });

  async function start(taskName: string, script: string, env?: Record<string, string>) {
    const context = await makeContext(dataDir, taskName, env);
    const handle = await driver.start(
      makeTask('raw_exec', { command: SH, args: ['-c', script] }, { Name: taskName }),
      context,
    );
    trackGroup(pidOf(handle));
    return { handle, context };
  }

  test('fingerprint follows the enabled option', () => {
    assert.deepEqual(
      { Detected: driver.fingerprint().Detected, Healthy: driver.fingerprint().Healthy },
      { Detected: true, Healthy: true },
    );
    const disabled = new RawExecDriver({ enabled: false }).fingerprint();
    assert.equal(disabled.Detected, false);
    assert.equal(disabled.Healthy, false);
  });

  test('disabled driver rejects start', async () => {
    const context = await makeContext(dataDir, 'disabled');
    await assert.rejects(
      new RawExecDriver({ enabled: false }).start(makeTask('raw_exec', { command: '/bin/true' }), context),
      (err: unknown) => err instanceof DriverError && err.code === 'DISABLED',
    );
  });

  test('exit code is reported', async () => {
    const { handle } = await start('exit-code', 'exit 3');
    assert.deepEqual(await handle.wait(), { exitCode: 3, signal: null });
  });

  test('env and cwd are the task environment and folder', async () => {
    const { handle, context } = await start('env', 'pwd; echo "$NOMAD_ALLOC_ID"; echo "$GREETING"', {
      PATH: '/usr/bin:/bin',
      NOMAD_ALLOC_ID: ALLOC_ID,
      GREETING: 'hello world',
    });
    assert.equal((await handle.wait()).exitCode, 0);
    const lines = (await readText(join(context.taskDir.logDir, 'env.stdout.0'))).trim().split('\n');
    assert.equal(lines[0], context.taskDir.dir);
    assert.equal(lines[1], ALLOC_ID);
    assert.equal(lines[2], 'hello world');
  });

  test('stdout and stderr go to the log files', async () => {
    const { handle, context } = await start('logs', 'echo to-stdout; echo to-stderr >&2');
    await handle.wait();
    assert.equal(await readText(join(context.taskDir.logDir, 'logs.stdout.0')), 'to-stdout\n');
    assert.equal(await readText(join(context.taskDir.logDir, 'logs.stderr.0')), 'to-stderr\n');
  });

  test('stop sends SIGINT first by default', async () => {
    const { handle } = await start('stop-int', 'exec /bin/sleep 1000');
    const startedAt = Date.now();
    await handle.stop(5000);
    assert.ok(
      Date.now() - startedAt < 2000,
      'the process should exit on SIGINT, long before the kill timeout',
    );
    assert.deepEqual(await handle.wait(), { exitCode: 130, signal: 'SIGINT' });
  });

  test('stop sends SIGKILL after the timeout to a process that ignores the signal', async () => {
    const { handle, context } = await start(
      'stop-trap',
      "trap '' TERM; echo ready; while :; do /bin/sleep 0.05; done",
    );
    const log = join(context.taskDir.logDir, 'stop-trap.stdout.0');
    await waitFor('the trap to be installed', async () => (await readText(log)).includes('ready'));

    const startedAt = Date.now();
    await handle.stop(300, 'SIGTERM');
    const elapsed = Date.now() - startedAt;
    assert.ok(elapsed >= 290, `stop returned after ${elapsed} ms, before the 300 ms kill timeout`);
    assert.deepEqual(await handle.wait(), { exitCode: 137, signal: 'SIGKILL' });
  });

  test('stop kills the children in the process group', async () => {
    // A non-interactive shell starts background jobs with SIGINT ignored, so only the group-wide
    // SIGKILL that follows the leader's exit can end this child.
    const { handle, context } = await start('children', '/bin/sleep 1000 & echo $!; wait');
    const log = join(context.taskDir.logDir, 'children.stdout.0');
    await waitFor('the child pid', async () => /^\d+\n/.test(await readText(log)));
    const childPid = Number((await readText(log)).trim());
    assert.equal(await isRunning(childPid), true);

    await handle.stop(2000);
    await waitFor('the child to die', async () => !(await isRunning(childPid)));
  });

  test('children left behind by an exited task are killed', async () => {
    const { handle, context } = await start('orphans', '/bin/sleep 1000 & echo $!; exit 0');
    assert.equal((await handle.wait()).exitCode, 0);
    const childPid = Number((await readText(join(context.taskDir.logDir, 'orphans.stdout.0'))).trim());
    assert.ok(childPid > 1);
    await waitFor('the orphaned child to die', async () => !(await isRunning(childPid)));
  });

  test('missing command is an INVALID_CONFIG error naming the field', async () => {
    const context = await makeContext(dataDir, 'bad-config');
    await assert.rejects(driver.start(makeTask('raw_exec', { args: ['x'] }), context), {
      name: 'DriverError',
      code: 'INVALID_CONFIG',
      field: 'command',
    });
    await assert.rejects(driver.start(makeTask('raw_exec', { command: SH, args: ['-c', 7] }), context), {
      code: 'INVALID_CONFIG',
      field: 'args',
    });
    await assert.rejects(driver.start(makeTask('raw_exec', { command: SH, arg: ['-c'] }), context), {
      code: 'INVALID_CONFIG',
      field: 'arg',
    });
    await assert.rejects(driver.start(makeTask('raw_exec', { command: 42 }), context), {
      code: 'INVALID_CONFIG',
      field: 'command',
    });
  });

  test('unknown command is a START_FAILED error', async () => {
    const context = await makeContext(dataDir, 'not-found');
    await assert.rejects(
      driver.start(makeTask('raw_exec', { command: '/nonexistent/signet-task' }), context),
      {
        code: 'START_FAILED',
      },
    );
  });

  describe('recover', () => {
    test('a new driver keeps watching the same process and sees its exit', async () => {
      const { handle, context } = await start('recover', 'echo ready; /bin/sleep 0.4');
      const saved = JSON.parse(JSON.stringify(handle.state()));
      const pid = pidOf(handle);
      await waitFor('the task to run', async () =>
        (await readText(join(context.taskDir.logDir, 'recover.stdout.0'))).includes('ready'),
      );

      const restarted = new RawExecDriver({ enabled: true, pollIntervalMs: 20 });
      const recovered = await restarted.recover(saved);
      assert.ok(recovered !== null, 'the running process should be recovered');
      assert.equal(pidOf(recovered), pid);
      assert.equal(await isRunning(pid), true);

      // This test process is still the parent, so the exit status goes to it, not to the poller.
      assert.deepEqual(await recovered.wait(), { exitCode: null, signal: null });
      assert.equal(await isRunning(pid), false);
    });

    test('a recovered process can be stopped', async () => {
      const { handle } = await start('recover-stop', 'exec /bin/sleep 1000');
      const restarted = new RawExecDriver({ enabled: true, pollIntervalMs: 20 });
      const recovered = await restarted.recover(handle.state());
      assert.ok(recovered !== null);

      await recovered.stop(2000);
      assert.equal(await isRunning(pidOf(handle)), false);
      assert.deepEqual(await handle.wait(), { exitCode: 130, signal: 'SIGINT' });
    });

    test('a dead pid is not recovered', async () => {
      const { handle } = await start('recover-dead', 'exit 0');
      await handle.wait();
      assert.equal(await driver.recover(handle.state()), null);
    });

    test('a reused pid is not recovered or signalled', async () => {
      // This test process stands for an unrelated process that got the task's pid.
      const stat = await readProcStat(process.pid);
      assert.ok(stat !== null);
      const { handle } = await start('recover-reused', 'exit 0');
      await handle.wait();
      const state = handle.state();
      const reused = {
        ...state,
        data: { ...state.data, pid: process.pid, startTime: String(Number(stat.startTime) + 1) },
      };
      assert.equal(await driver.recover(reused), null);

      const otherBoot = {
        ...state,
        data: { ...state.data, pid: process.pid, startTime: stat.startTime, bootId: 'x' },
      };
      assert.equal(await driver.recover(otherBoot), null);
    });

    test('a malformed handle is an INVALID_HANDLE error', async () => {
      await assert.rejects(driver.recover({ driver: 'mock', version: 1, data: {} }), {
        code: 'INVALID_HANDLE',
      });
      await assert.rejects(
        driver.recover({ driver: 'raw_exec', version: 1, data: { pid: 1, startTime: '5', bootId: 'b' } }),
        { code: 'INVALID_HANDLE' },
      );
      await assert.rejects(
        driver.recover({ driver: 'raw_exec', version: 1, data: { pid: 1234, startTime: 5, bootId: 'b' } }),
        { code: 'INVALID_HANDLE' },
      );
    });
  });
});
