import assert from 'node:assert/strict';
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { AllocDir } from '../../src/client/alloc-dir.js';
import type {
  TaskDriver,
  TaskHandle,
  TaskHandleState,
  TaskStartContext,
} from '../../src/client/drivers/driver.js';
import { MockDriver } from '../../src/client/drivers/mock.js';
import { RawExecDriver } from '../../src/client/drivers/raw-exec.js';
import { writeSecretFile } from '../../src/client/secret-file.js';
import { NOMAD_TOKEN_FILE } from '../../src/client/task-identity.js';
import { TaskEventType, TaskRunner } from '../../src/client/task-runner.js';
import type { Task, WorkloadIdentity } from '../../src/structs/job.js';
import {
  ALLOC_ID,
  killStartedGroups,
  makeDataDir,
  makeTask,
  removeDataDir,
  trackGroup,
} from './driver-support.js';

// The tokens only need the compact JWS shape here: the client hands them over without verifying.
const TOKEN = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJub21hZF90YXNrIjoid2ViIn0.c2lnbmF0dXJlLW9mLXdlYg';
const OTHER_TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJub21hZF90YXNrIjoib3RoZXIifQ.c2lnbmF0dXJlLW9mLW90aGVy';
/** A token in the client's own environment, which no task may inherit. */
const OPERATOR_TOKEN = '0b6c1f0e-3d6a-4f2e-9c7e-5a4b3c2d1e0f';

function identity(flags: Partial<Pick<WorkloadIdentity, 'File' | 'Env'>>): WorkloadIdentity {
  return { Name: 'default', Audience: ['nomadproject.io'], Env: false, File: false, TTL: 0, ...flags };
}

/** The mock driver, keeping the start context (and so the environment) of every task it starts. */
class RecordingDriver implements TaskDriver {
  readonly name = 'mock';
  readonly started: TaskStartContext[] = [];
  readonly #inner = new MockDriver();

  fingerprint() {
    return this.#inner.fingerprint();
  }

  start(task: Task, context: TaskStartContext): Promise<TaskHandle> {
    this.started.push(context);
    return this.#inner.start(task, context);
  }

  recover(state: TaskHandleState): Promise<TaskHandle | null> {
    return this.#inner.recover(state);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

describe('workload identity in the task runner', () => {
  let dataDir: string;
  let allocDir: AllocDir;
  /** Every log line that the runners wrote, to check that no token appears in them. */
  const logLines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

  before(async () => {
    dataDir = await makeDataDir();
    allocDir = new AllocDir(dataDir, ALLOC_ID);
  });
  afterEach(() => {
    killStartedGroups();
    for (const line of logLines) {
      assert.equal(line.includes(TOKEN), false, `a log line contains the token: ${line.slice(0, 200)}`);
    }
  });
  after(async () => {
    await removeDataDir(dataDir);
  });

  function run(task: Task, driver: TaskDriver, signedIdentities: Record<string, string>) {
    const runner = new TaskRunner({
      alloc: {
        ID: ALLOC_ID,
        Name: 'web.frontend[0]',
        Namespace: 'default',
        JobID: 'web',
        TaskGroup: 'frontend',
        SignedIdentities: signedIdentities,
      },
      jobName: 'web',
      task,
      allocDir,
      driver,
      logger,
      hostEnv: { PATH: '/usr/bin:/bin', NOMAD_TOKEN: OPERATOR_TOKEN },
      onUpdate: (update) => {
        const pid = update.handle?.data.pid;
        if (typeof pid === 'number') trackGroup(pid);
      },
    });
    return runner.run();
  }

  /** Builds a raw_exec task that writes its NOMAD_TOKEN, or `unset`, to alloc/data/NAME.env. */
  function envWriter(name: string, block: WorkloadIdentity | null): Task {
    const script = `printf %s "\${NOMAD_TOKEN-unset}" > "$NOMAD_ALLOC_DIR/data/${name}.env"`;
    return makeTask(
      'raw_exec',
      { command: '/bin/sh', args: ['-c', script] },
      { Name: name, Identity: block },
    );
  }

  const tokenFile = (taskName: string): string =>
    join(allocDir.taskDir(taskName).secretsDir, NOMAD_TOKEN_FILE);
  const envFile = (taskName: string): string => join(allocDir.dataDir, `${taskName}.env`);

  test('File and Env: token file 0600 and NOMAD_TOKEN', async () => {
    const final = await run(envWriter('both', identity({ File: true, Env: true })), rawExec(), {
      both: TOKEN,
      other: OTHER_TOKEN,
    });
    assert.equal(final.Failed, false, JSON.stringify(final.Events));

    const file = await lstat(tokenFile('both'));
    assert.equal(file.isFile(), true);
    assert.equal(file.mode & 0o777, 0o600);
    assert.equal(await readFile(tokenFile('both'), 'utf8'), TOKEN);
    assert.equal(await readFile(envFile('both'), 'utf8'), TOKEN);
    assert.deepEqual(await readdir(allocDir.taskDir('both').secretsDir), [NOMAD_TOKEN_FILE]);
  });

  test('File only: no NOMAD_TOKEN', async () => {
    const driver = new RecordingDriver();
    const task = makeTask(
      'mock',
      { run_for: '1ms' },
      { Name: 'file-only', Identity: identity({ File: true }) },
    );
    const final = await run(task, driver, { 'file-only': TOKEN });
    assert.equal(final.Failed, false);
    assert.equal(await readFile(tokenFile('file-only'), 'utf8'), TOKEN);
    assert.equal(driver.started.length, 1);
    assert.equal(driver.started[0]?.env.NOMAD_TOKEN, undefined);
  });

  test('Env only: no token file', async () => {
    const final = await run(envWriter('env-only', identity({ Env: true })), rawExec(), { 'env-only': TOKEN });
    assert.equal(final.Failed, false);
    assert.equal(await readFile(envFile('env-only'), 'utf8'), TOKEN);
    assert.equal(await exists(tokenFile('env-only')), false);
  });

  test('no identity block: neither, host token not inherited', async () => {
    const final = await run(envWriter('no-block', null), rawExec(), { 'no-block': TOKEN });
    assert.equal(final.Failed, false);
    assert.equal(await readFile(envFile('no-block'), 'utf8'), 'unset');
    assert.equal(await exists(tokenFile('no-block')), false);
  });

  test('block without File or Env: neither', async () => {
    const final = await run(envWriter('no-flags', identity({})), rawExec(), { 'no-flags': TOKEN });
    assert.equal(final.Failed, false);
    assert.equal(await readFile(envFile('no-flags'), 'utf8'), 'unset');
    assert.equal(await exists(tokenFile('no-flags')), false);
  });

  for (const flags of [{ File: true }, { Env: true }, { File: true, Env: true }]) {
    const name = `missing-${Object.keys(flags).join('-').toLowerCase()}`;
    test(`missing token with ${Object.keys(flags).join(' and ')}: Setup Failure`, async () => {
      const logStart = logLines.length;
      const driver = new RecordingDriver();
      const task = makeTask('mock', { run_for: '1ms' }, { Name: name, Identity: identity(flags) });
      const final = await run(task, driver, { other: OTHER_TOKEN });

      assert.equal(final.State, 'dead');
      assert.equal(final.Failed, true);
      assert.equal(final.StartedAt, '');
      assert.deepEqual(
        final.Events.map((event) => event.Type),
        [TaskEventType.Received, TaskEventType.TaskSetup, TaskEventType.SetupFailure],
      );
      assert.match(
        final.Events.at(-1)?.DisplayMessage ?? '',
        /^missing workload identity for task "missing-/,
      );
      assert.equal(driver.started.length, 0, 'the driver must not start the task');
      assert.equal(await exists(tokenFile(name)), false);
      const warnings = logLines.slice(logStart).map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.ok(warnings.some((line) => line.code === 'MISSING_WORKLOAD_IDENTITY'));
    });
  }

  test('task named like a prototype member: missing', async () => {
    const driver = new RecordingDriver();
    const task = makeTask(
      'mock',
      { run_for: '1ms' },
      { Name: 'constructor', Identity: identity({ File: true }) },
    );
    const final = await run(task, driver, {});
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.Type, TaskEventType.SetupFailure);
    assert.equal(driver.started.length, 0);
  });

  test('planted symlink is replaced, not followed', async () => {
    const paths = await allocDir.buildTaskDir('planted');
    const victim = join(dataDir, 'victim.txt');
    await writeFile(victim, 'original', { mode: 0o644 });
    await symlink(victim, join(paths.secretsDir, NOMAD_TOKEN_FILE));
    assert.equal(await readlink(join(paths.secretsDir, NOMAD_TOKEN_FILE)), victim);

    const task = makeTask(
      'mock',
      { run_for: '1ms' },
      { Name: 'planted', Identity: identity({ File: true }) },
    );
    const final = await run(task, new RecordingDriver(), { planted: TOKEN });
    assert.equal(final.Failed, false);
    assert.equal(await readFile(victim, 'utf8'), 'original');
    assert.equal((await stat(victim)).mode & 0o777, 0o644);
    const file = await lstat(tokenFile('planted'));
    assert.equal(file.isSymbolicLink(), false);
    assert.equal(file.mode & 0o777, 0o600);
    assert.equal(await readFile(tokenFile('planted'), 'utf8'), TOKEN);
  });

  test('wider token file left behind becomes 0600', async () => {
    const paths = await allocDir.buildTaskDir('stale');
    await writeFile(join(paths.secretsDir, NOMAD_TOKEN_FILE), 'stale', { mode: 0o644 });
    const task = makeTask('mock', { run_for: '1ms' }, { Name: 'stale', Identity: identity({ File: true }) });
    const final = await run(task, new RecordingDriver(), { stale: TOKEN });
    assert.equal(final.Failed, false);
    assert.equal((await stat(tokenFile('stale'))).mode & 0o777, 0o600);
    assert.equal(await readFile(tokenFile('stale'), 'utf8'), TOKEN);
  });

  test('folder at the token path: Setup Failure', async () => {
    const paths = await allocDir.buildTaskDir('blocked');
    await mkdir(join(paths.secretsDir, NOMAD_TOKEN_FILE));
    const driver = new RecordingDriver();
    const task = makeTask(
      'mock',
      { run_for: '1ms' },
      { Name: 'blocked', Identity: identity({ File: true }) },
    );
    const final = await run(task, driver, { blocked: TOKEN });
    assert.equal(final.Failed, true);
    assert.equal(final.Events.at(-1)?.Type, TaskEventType.SetupFailure);
    assert.equal(driver.started.length, 0);
    assert.equal(final.Events.at(-1)?.DisplayMessage.includes(TOKEN), false);
    // The temporary file is removed after the failed rename.
    assert.deepEqual(await readdir(paths.secretsDir), [NOMAD_TOKEN_FILE]);
  });
});

describe('writeSecretFile', () => {
  let dir: string;
  before(async () => {
    dir = await makeDataDir();
  });
  after(async () => {
    await removeDataDir(dir);
  });

  test('mode is 0600 whatever the umask', async () => {
    const previous = process.umask(0o277);
    try {
      await writeSecretFile(dir, 'narrow', 'secret');
    } finally {
      process.umask(previous);
    }
    assert.equal((await stat(join(dir, 'narrow'))).mode & 0o777, 0o600);
    assert.equal(await readFile(join(dir, 'narrow'), 'utf8'), 'secret');
  });

  test('symlinked folder is rejected', async () => {
    const real = join(dir, 'real');
    await mkdir(real);
    await symlink(real, join(dir, 'linked'));
    await assert.rejects(writeSecretFile(join(dir, 'linked'), 'token', 'secret'), {
      name: 'SecretFileError',
      path: join(dir, 'linked'),
    });
    assert.deepEqual(await readdir(real), []);
  });
});

function rawExec(): RawExecDriver {
  return new RawExecDriver({ enabled: true, pollIntervalMs: 20 });
}
