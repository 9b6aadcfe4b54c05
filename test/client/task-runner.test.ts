import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { AllocDir } from '../../src/client/alloc-dir.js';
import type { TaskDriver } from '../../src/client/drivers/driver.js';
import { MockDriver } from '../../src/client/drivers/mock.js';
import { RawExecDriver } from '../../src/client/drivers/raw-exec.js';
import { TaskEventType, TaskRunner, type TaskRunnerUpdate } from '../../src/client/task-runner.js';
import type { TaskState } from '../../src/structs/allocation.js';
import type { Task } from '../../src/structs/job.js';
import {
  ALLOC_ID,
  killStartedGroups,
  makeDataDir,
  makeTask,
  readText,
  removeDataDir,
  trackGroup,
  waitFor,
} from './driver-support.js';

const silent = pino({ level: 'silent' });
const alloc = {
  ID: ALLOC_ID,
  Name: 'web.frontend[1]',
  Namespace: 'default',
  JobID: 'web',
  TaskGroup: 'frontend',
  SignedIdentities: {},
};

function typesOf(state: TaskState): string[] {
  return state.Events.map((event) => event.Type);
}

describe('TaskRunner', () => {
  let dataDir: string;
  let allocDir: AllocDir;

  before(async () => {
    dataDir = await makeDataDir();
    allocDir = new AllocDir(dataDir, ALLOC_ID);
  });
  afterEach(() => killStartedGroups());
  after(async () => {
    killStartedGroups();
    await removeDataDir(dataDir);
  });

  function makeRunner(task: Task, driver: TaskDriver, extra: { restoredState?: TaskState } = {}) {
    const updates: TaskRunnerUpdate[] = [];
    const runner = new TaskRunner({
      alloc,
      jobName: 'web',
      task,
      allocDir,
      driver,
      logger: silent,
      hostEnv: { PATH: '/usr/bin:/bin' },
      onUpdate: (update) => {
        updates.push(update);
        const pid = update.handle?.data.pid;
        if (typeof pid === 'number') trackGroup(pid);
      },
      ...extra,
    });
    return { runner, updates };
  }

  test('success: pending, running, dead and not failed', async () => {
    const { runner, updates } = makeRunner(
      makeTask('mock', { run_for: '20ms' }, { Name: 'ok' }),
      new MockDriver(),
    );
    assert.equal(runner.state().State, 'pending');
    assert.deepEqual(typesOf(runner.state()), [TaskEventType.Received]);

    const final = await runner.run();
    assert.equal(final.State, 'dead');
    assert.equal(final.Failed, false);
    assert.notEqual(final.StartedAt, '');
    assert.notEqual(final.FinishedAt, '');
    assert.deepEqual(typesOf(final), ['Received', 'Task Setup', 'Started', 'Terminated']);
    assert.equal(final.Events.at(-1)?.ExitCode, 0);

    const running = updates.find((update) => update.state.State === 'running');
    assert.ok(running !== undefined, 'an update should report the running state');
    assert.equal(running.handle?.driver, 'mock');
    assert.equal(updates.at(-1)?.handle, null);
    assert.deepEqual(await runner.done(), final);
  });

  test('non-zero exit: dead and failed', async () => {
    const { runner } = makeRunner(
      makeTask('mock', { run_for: '10ms', exit_code: 2 }, { Name: 'fails' }),
      new MockDriver(),
    );
    const final = await runner.run();
    assert.equal(final.State, 'dead');
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.Type, 'Terminated');
    assert.equal(final.Events.at(-1)?.ExitCode, 2);
  });

  test('start error: Driver Failure, never running', async () => {
    const { runner, updates } = makeRunner(
      makeTask('mock', { start_error: 'image not found' }, { Name: 'no-start' }),
      new MockDriver(),
    );
    const final = await runner.run();
    assert.equal(final.State, 'dead');
    assert.equal(final.Failed, true);
    assert.equal(final.StartedAt, '');
    assert.deepEqual(typesOf(final), ['Received', 'Task Setup', 'Driver Failure']);
    assert.equal(final.Events.at(-1)?.DisplayMessage, 'image not found');
    assert.equal(
      updates.some((update) => update.state.State === 'running'),
      false,
    );
  });

  test('bad driver config: Driver Failure naming the field', async () => {
    const { runner } = makeRunner(
      makeTask('raw_exec', { args: ['-c', 'true'] }, { Name: 'no-command' }),
      rawExec(),
    );
    const final = await runner.run();
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.Type, 'Driver Failure');
    assert.match(final.Events.at(-1)?.DisplayMessage ?? '', /"command"/);
  });

  test('driver other than the task names: Driver Failure', async () => {
    const { runner } = makeRunner(
      makeTask('raw_exec', { command: '/bin/true' }, { Name: 'wrong-driver' }),
      new MockDriver(),
    );
    const final = await runner.run();
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.Type, 'Driver Failure');
  });

  test('invalid task name: Setup Failure', async () => {
    const { runner } = makeRunner(makeTask('mock', {}, { Name: '../escape' }), new MockDriver());
    const final = await runner.run();
    assert.equal(final.Failed, true);
    assert.deepEqual(typesOf(final), ['Received', 'Task Setup', 'Setup Failure']);
  });

  test('kill while running: Killing, Terminated, Killed, not failed', async () => {
    const { runner } = makeRunner(makeTask('mock', { run_for: '0' }, { Name: 'killed' }), new MockDriver());
    const running = runner.run();
    await waitFor('the task to run', () => runner.state().State === 'running');
    const final = await runner.kill();
    assert.deepEqual(await running, final);
    assert.equal(final.State, 'dead');
    assert.equal(final.Failed, false);
    assert.deepEqual(typesOf(final), [
      'Received',
      'Task Setup',
      'Started',
      'Killing',
      'Terminated',
      'Killed',
    ]);
  });

  test('kill before run: Killed, never started', async () => {
    const { runner } = makeRunner(makeTask('mock', { run_for: '0' }, { Name: 'early' }), new MockDriver());
    const final = await runner.kill();
    assert.equal(final.State, 'dead');
    assert.equal(final.Failed, false);
    assert.deepEqual(typesOf(final), ['Received', 'Killing', 'Killed']);
    await assert.rejects(runner.run(), /already started/);
  });

  test('kill during start stops the task once it started', async () => {
    const { runner } = makeRunner(makeTask('mock', { run_for: '0' }, { Name: 'during' }), new MockDriver());
    const running = runner.run();
    const final = await runner.kill();
    assert.deepEqual(await running, final);
    assert.equal(final.Failed, false);
    assert.equal(final.Events.at(-1)?.Type, 'Killed');
  });

  test('raw_exec task gets its env and logs', async () => {
    const task = makeTask(
      'raw_exec',
      { command: '/bin/sh', args: ['-c', 'echo "$NOMAD_TASK_NAME $NOMAD_ALLOC_INDEX $GREETING"; exit 4'] },
      { Name: 'shell', Env: { GREETING: 'hi' } },
    );
    const { runner } = makeRunner(task, rawExec());
    const final = await runner.run();
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.ExitCode, 4);
    assert.equal(await readText(join(allocDir.logDir, 'shell.stdout.0')), 'shell 1 hi\n');
  });

  test('raw_exec kill uses the kill timeout', async () => {
    const task = makeTask(
      'raw_exec',
      { command: '/bin/sh', args: ['-c', "trap '' INT; echo ready; while :; do /bin/sleep 0.05; done"] },
      { Name: 'stubborn', KillTimeout: 200_000_000 },
    );
    const { runner } = makeRunner(task, rawExec());
    void runner.run();
    await waitFor('the trap', async () =>
      (await readText(join(allocDir.logDir, 'stubborn.stdout.0'))).includes('ready'),
    );

    const startedAt = Date.now();
    const final = await runner.kill();
    assert.ok(Date.now() - startedAt >= 190);
    assert.equal(final.Failed, false);
    const terminated = final.Events.find((event) => event.Type === 'Terminated');
    assert.equal(terminated?.ExitCode, 137);
  });

  test('restore re-attaches and reports the exit', async () => {
    const task = makeTask('mock', { run_for: '300ms', exit_code: 0 }, { Name: 'restored' });
    const first = makeRunner(task, new MockDriver());
    void first.runner.run();
    await waitFor('the task to run', () => first.runner.state().State === 'running');
    const savedState = first.runner.state();
    const savedHandle = first.runner.handleState();
    assert.ok(savedHandle !== null);

    const second = makeRunner(task, new MockDriver(), { restoredState: savedState });
    assert.equal(await second.runner.restore(savedHandle), true);
    assert.equal(second.runner.state().State, 'running');
    const final = await second.runner.done();
    assert.equal(final.Failed, false);
    assert.deepEqual(typesOf(final), ['Received', 'Task Setup', 'Started', 'Terminated']);
    await first.runner.done();
  });

  test('restore of a process that is gone: dead, failed, exit unknown', async () => {
    const task = makeTask('raw_exec', { command: '/bin/true' }, { Name: 'gone' });
    const first = makeRunner(task, rawExec());
    const exited = await first.runner.run();
    const saved = first.updates.find((update) => update.handle !== null)?.handle;
    assert.ok(saved !== undefined, 'the running task should have reported an update');
    assert.ok(saved !== null, 'the running task should have reported its handle');

    const restoredState = { ...exited, State: 'running' as const, FinishedAt: '' };
    const second = makeRunner(task, rawExec(), { restoredState });
    assert.equal(await second.runner.restore(saved), false);
    const final = second.runner.state();
    assert.equal(final.State, 'dead');
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.Type, 'Terminated');
    assert.equal(final.Events.at(-1)?.ExitCode, -1);
  });

  test('events keep the newest 10', async () => {
    const events = Array.from({ length: 10 }, (_, i) => ({
      Type: 'Received',
      Time: i,
      DisplayMessage: '',
      ExitCode: 0,
    }));
    const restoredState: TaskState = {
      State: 'running',
      Failed: false,
      Restarts: 0,
      StartedAt: '2026-01-01T00:00:00.000Z',
      FinishedAt: '',
      Events: events,
    };
    const task = makeTask('mock', { run_for: '1h' }, { Name: 'capped' });
    const first = await new MockDriver().start(task, {
      allocId: ALLOC_ID,
      taskName: 'capped',
      env: {},
      taskDir: allocDir.taskDir('capped'),
    });
    const { runner } = makeRunner(task, new MockDriver(), { restoredState });
    assert.equal(await runner.restore(first.state()), true);
    const final = await runner.kill();
    await first.stop(0);
    assert.equal(final.Events.length, 10);
    assert.deepEqual(typesOf(final).slice(-3), ['Killing', 'Terminated', 'Killed']);
    assert.equal(final.Events[0]?.Time, 3);
  });
});

function rawExec(): RawExecDriver {
  return new RawExecDriver({ enabled: true, pollIntervalMs: 20 });
}
