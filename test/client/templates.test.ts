import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ClientAgent } from '../../src/client/agent.js';
import { TaskEventType } from '../../src/client/task-runner.js';
import { resolveAgentConfig } from '../../src/server/agent-config.js';
import type { Allocation, TaskState } from '../../src/structs/allocation.js';
import type { Job, Task, Template } from '../../src/structs/job.js';
import { startVariablesServer, type VariablesServer } from '../support/variables-server.js';
import { makeAlloc, makeJob, T0 } from '../support/workload.js';
import { waitFor } from './driver-support.js';

// A client agent in this process renders templates against an in-process server that verifies the
// tasks' signed identities and resolves their ACLs with the real server code. Each case is its own
// job, so that one failing task leaves the others alone.

const SECRET_PASSWORD = 'pw-8c1f-never-logged';
/** Policy tied to every job of this file's namespace: read and list `app/*`, except `app/secret`. */
const APP_POLICY = `namespace "default" { variables {
  path "app/*" { capabilities = ["read", "list"] }
  path "app/secret" { capabilities = ["deny"] }
} }`;

function template(DestPath: string, EmbeddedTmpl: string, overrides: Partial<Template> = {}): Template {
  return { DestPath, EmbeddedTmpl, ChangeMode: 'noop', Envvars: false, ...overrides };
}

function task(name: string, templates: Template[], overrides: Partial<Task> = {}): Task {
  return {
    Name: name,
    Driver: 'mock',
    Config: {},
    Env: null,
    Resources: { CPU: 100, MemoryMB: 64 },
    Identity: null,
    Identities: [],
    Templates: templates,
    KillTimeout: 1_000_000_000,
    ...overrides,
  };
}

/** Builds a raw_exec task that copies the listed variables of its environment into alloc/data, then sleeps. */
function envTask(name: string, variables: string[], templates: Template[]): Task {
  const copies = variables.map(
    (variable) => `printf %s "\${${variable}-unset}" > "$NOMAD_ALLOC_DIR/data/${variable}"`,
  );
  return task(name, templates, {
    Driver: 'raw_exec',
    Config: { command: '/bin/sh', args: ['-c', `${copies.join('; ')}; exec sleep 60`] },
  });
}

describe('templates on a client agent', { timeout: 90_000 }, () => {
  let root = '';
  let server: VariablesServer;
  let agent: ClientAgent;
  const clientLog: string[] = [];
  const placed: Allocation[] = [];

  /** Registers a job of one group `g` with `tasks`, places it on the agent's node, and returns the allocation. */
  async function run(jobId: string, tasks: Task[], sign = true): Promise<Allocation> {
    const job: Job = makeJob({ ID: jobId, Name: jobId, TaskGroups: [{ Name: 'g', Count: 1, Tasks: tasks }] });
    const alloc = makeAlloc({
      NodeID: agent.identity.ID,
      JobID: jobId,
      Name: `${jobId}.g[0]`,
      TaskGroup: 'g',
      TaskResources: Object.fromEntries(tasks.map((each) => [each.Name, each.Resources])),
      SignedIdentities: sign ? Object.fromEntries(tasks.map((each) => [each.Name, ''])) : {},
    });
    await server.place(job, [alloc]);
    placed.push(alloc);
    return alloc;
  }

  async function taskState(
    alloc: Allocation,
    name: string,
    until: (state: TaskState) => boolean,
  ): Promise<TaskState> {
    await waitFor(
      `task ${name} of ${alloc.JobID}`,
      () => {
        const state = server.state.allocation(alloc.ID)?.TaskStates[name];
        return state !== undefined && until(state);
      },
      30_000,
    );
    return server.state.allocation(alloc.ID)!.TaskStates[name]!;
  }

  const taskDir = (alloc: Allocation, name: string): string => join(root, 'alloc', alloc.ID, name);
  const running = (state: TaskState): boolean => state.State === 'running';
  const dead = (state: TaskState): boolean => state.State === 'dead';

  async function fileBecomes(path: string, expected: string): Promise<void> {
    await waitFor(
      `${path} to hold ${JSON.stringify(expected)}`,
      async () => (await readFile(path, 'utf8').catch(() => '')) === expected,
      30_000,
    );
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-templates-'));
    server = await startVariablesServer();
    await server.putPolicy({
      Name: 'app-read',
      Rules: APP_POLICY,
      JobACL: { Namespace: 'default', JobID: '', Group: '', Task: '' },
    });
    await server.putVariable('default', 'app/db', { user: 'admin', password: SECRET_PASSWORD });
    await server.putVariable('default', 'app/cache', { size: '64' });
    await server.putVariable('default', 'app/secret', { key: 'hidden' });

    const config = resolveAgentConfig([
      {
        name: 'client-1',
        data_dir: root,
        client: { enabled: true, servers: [server.address] },
        plugin: { raw_exec: { config: { enabled: true } }, mock: { config: { enabled: true } } },
      },
    ]);
    const logger = pino({ level: 'debug' }, { write: (line: string) => void clientLog.push(line) });
    agent = await ClientAgent.start({ config, logger, rpc: { holdTimeMs: 2000 } });
    await waitFor('node registered', () => server.state.node(agent.identity.ID)?.Status === 'ready', 30_000);
  });

  after(async () => {
    // Stop every allocation, so that no raw_exec process outlives the test.
    if (placed.length > 0) {
      await server.apply({
        type: 'plan-apply',
        v: 2,
        place: [],
        stop: placed.map((alloc) => ({ ID: alloc.ID, DesiredDescription: 'test over' })),
        evals: [],
        time: T0,
      });
      await waitFor(
        'every task stopped',
        () =>
          placed.every((alloc) =>
            Object.values(server.state.allocation(alloc.ID)?.TaskStates ?? {}).every(
              (state) => state.State === 'dead',
            ),
          ),
        30_000,
      ).catch(() => undefined);
    }
    await agent?.close();
    await server?.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  test('allowed variables render into local', async () => {
    await server.putVariable('default', 'nomad/jobs/render', { owner: 'team-a' });
    const alloc = await run('render', [
      task('web', [
        template(
          'local/app.conf',
          [
            'user={{ with nomadVar "app/db" }}{{ .user }}{{ end }}',
            'owner={{ (nomadVar "nomad/jobs/render").owner }}',
            'exists={{ nomadVarExists "app/db" }} {{ nomadVarExists "app/none" }}',
            'list={{ range nomadVarList "app/" }}{{ .Path }} {{ end }}',
            'namespace={{ env "NOMAD_NAMESPACE" }}',
          ].join('\n'),
        ),
        template('/secrets/db.txt', '{{ with nomadVar "app/db" }}{{ .password }}{{ end }}'),
      ]),
    ]);
    await taskState(alloc, 'web', running);

    const conf = join(taskDir(alloc, 'web'), 'local', 'app.conf');
    assert.equal(
      await readFile(conf, 'utf8'),
      'user=admin\nowner=team-a\nexists=true false\nlist=app/cache app/db \nnamespace=default',
    );
    assert.equal((await stat(conf)).mode & 0o777, 0o644);
    const secret = join(taskDir(alloc, 'web'), 'secrets', 'db.txt');
    assert.equal(await readFile(secret, 'utf8'), SECRET_PASSWORD);
    assert.equal((await stat(secret)).mode & 0o777, 0o600);
  });

  test('denied variable fails the task', async () => {
    const alloc = await run('denied', [
      task('web', [template('local/denied.txt', '{{ with nomadVar "app/secret" }}{{ .key }}{{ end }}')]),
    ]);
    const state = await taskState(alloc, 'web', dead);
    assert.equal(state.Failed, true);
    assert.equal(state.StartedAt, '');
    const last = state.Events.at(-1);
    assert.equal(last?.Type, TaskEventType.SetupFailure);
    assert.match(
      last?.DisplayMessage ?? '',
      /^Template failed: local\/denied\.txt: nomadVar: permission denied/,
    );
    assert.match(last?.DisplayMessage ?? '', /"app\/secret"/);
  });

  test('missing variable fails the task', async () => {
    const alloc = await run('missing', [
      task('web', [template('local/missing.txt', '{{ with nomadVar "app/none" }}x{{ end }}')]),
    ]);
    const state = await taskState(alloc, 'web', dead);
    assert.equal(state.Failed, true);
    const last = state.Events.at(-1);
    assert.equal(last?.Type, TaskEventType.SetupFailure);
    assert.match(
      last?.DisplayMessage ?? '',
      /^Template failed: local\/missing\.txt: nomadVar: variable "app\/none" not found/,
    );
  });

  test('task without identity cannot read variables', async () => {
    const alloc = await run(
      'unsigned',
      [task('web', [template('local/a.txt', '{{ with nomadVar "app/db" }}x{{ end }}')])],
      false,
    );
    const state = await taskState(alloc, 'web', dead);
    assert.equal(state.Failed, true);
    assert.match(state.Events.at(-1)?.DisplayMessage ?? '', /the task has no workload identity/);
  });

  test('destination outside the task folder is rejected', async () => {
    const alloc = await run('escape', [task('web', [template('../alloc/data/x.txt', 'plain text')])]);
    const state = await taskState(alloc, 'web', dead);
    assert.equal(state.Failed, true);
    assert.match(
      state.Events.at(-1)?.DisplayMessage ?? '',
      /^Template failed: \.\.\/alloc\/data\/x\.txt: invalid template destination/,
    );
    await assert.rejects(stat(join(root, 'alloc', alloc.ID, 'alloc', 'data', 'x.txt')), { code: 'ENOENT' });
  });

  test('env template sets task variables', async () => {
    const alloc = await run('envvars', [
      envTask(
        'web',
        ['DB_USER', 'CACHE_SIZE', 'QUOTED'],
        [
          template(
            'local/app.env',
            [
              '# from variables',
              'DB_USER={{ with nomadVar "app/db" }}{{ .user }}{{ end }}',
              'export CACHE_SIZE = {{ with nomadVar "app/cache" }}{{ .size }}{{ end }} # trailing comment',
              'QUOTED="a b\\tc"',
            ].join('\n'),
            { Envvars: true },
          ),
        ],
      ),
    ]);
    await taskState(alloc, 'web', running);
    const data = join(root, 'alloc', alloc.ID, 'alloc', 'data');
    await fileBecomes(join(data, 'QUOTED'), 'a b\tc');
    assert.equal(await readFile(join(data, 'DB_USER'), 'utf8'), 'admin');
    assert.equal(await readFile(join(data, 'CACHE_SIZE'), 'utf8'), '64');
  });

  test('noop change rewrites the file only', async () => {
    await server.putVariable('default', 'app/feature', { flag: 'off' });
    const alloc = await run('noop', [
      task('web', [template('local/flag.txt', '{{ with nomadVar "app/feature" }}{{ .flag }}{{ end }}')]),
    ]);
    await taskState(alloc, 'web', running);
    const file = join(taskDir(alloc, 'web'), 'local', 'flag.txt');
    assert.equal(await readFile(file, 'utf8'), 'off');

    await server.putVariable('default', 'app/feature', { flag: 'on' });
    await fileBecomes(file, 'on');
    const state = server.state.allocation(alloc.ID)!.TaskStates.web!;
    assert.equal(state.State, 'running');
    assert.equal(state.Restarts, 0);
    assert.equal(
      state.Events.some((event) => event.Type === TaskEventType.RestartSignaled),
      false,
    );
  });

  test('signal change sends SIGHUP and keeps the task running', async () => {
    await server.putVariable('default', 'app/limits', { max: '1' });
    const script =
      'trap \'echo hup >> "$NOMAD_ALLOC_DIR/data/hups"\' HUP; while true; do sleep 1 & wait $!; done';
    const alloc = await run('signal', [
      task(
        'web',
        [
          template('local/limits.txt', '{{ with nomadVar "app/limits" }}{{ .max }}{{ end }}', {
            ChangeMode: 'signal',
          }),
        ],
        { Driver: 'raw_exec', Config: { command: '/bin/sh', args: ['-c', script] } },
      ),
    ]);
    await taskState(alloc, 'web', running);
    await server.putVariable('default', 'app/limits', { max: '2' });
    await fileBecomes(join(taskDir(alloc, 'web'), 'local', 'limits.txt'), '2');
    await fileBecomes(join(root, 'alloc', alloc.ID, 'alloc', 'data', 'hups'), 'hup\n');
    const state = await taskState(alloc, 'web', (current) =>
      current.Events.some((event) => event.Type === TaskEventType.Signaling),
    );
    assert.equal(state.State, 'running');
    assert.equal(state.Restarts, 0);
  });

  test('restart change restarts with new env', async () => {
    await server.putVariable('default', 'app/release', { version: '1' });
    const alloc = await run('restart', [
      envTask(
        'web',
        ['VERSION'],
        [
          template('local/release.env', 'VERSION={{ with nomadVar "app/release" }}{{ .version }}{{ end }}', {
            Envvars: true,
            ChangeMode: 'restart',
          }),
        ],
      ),
    ]);
    await taskState(alloc, 'web', running);
    const copied = join(root, 'alloc', alloc.ID, 'alloc', 'data', 'VERSION');
    await fileBecomes(copied, '1');

    await server.putVariable('default', 'app/release', { version: '2' });
    const state = await taskState(alloc, 'web', (current) => current.Restarts === 1 && running(current));
    await fileBecomes(copied, '2');
    const types = state.Events.map((event) => event.Type);
    assert.ok(types.includes(TaskEventType.RestartSignaled), types.join(', '));
    assert.ok(types.includes(TaskEventType.Restarting), types.join(', '));
    assert.equal(state.Failed, false);
  });

  test('deleted variable kills the running task', async () => {
    await server.putVariable('default', 'app/ephemeral', { value: 'here' });
    const alloc = await run('deleted', [
      task('web', [template('local/e.txt', '{{ with nomadVar "app/ephemeral" }}{{ .value }}{{ end }}')]),
    ]);
    await taskState(alloc, 'web', running);

    await server.deleteVariable('default', 'app/ephemeral');
    const state = await taskState(alloc, 'web', dead);
    assert.equal(state.Failed, true);
    const killing = state.Events.find((event) => event.Type === TaskEventType.Killing);
    assert.match(
      killing?.DisplayMessage ?? '',
      /^Template failed: local\/e\.txt: nomadVar: variable "app\/ephemeral" not found/,
    );
  });

  test('no log line holds a token or a value', async () => {
    const tokens = placed.flatMap((alloc) =>
      Object.values(server.state.allocation(alloc.ID)?.SignedIdentities ?? {}),
    );
    assert.ok(tokens.length > 0);
    for (const line of [...clientLog, ...server.logs.text]) {
      assert.equal(line.includes(SECRET_PASSWORD), false, line.slice(0, 200));
      for (const token of tokens) assert.equal(line.includes(token), false, line.slice(0, 200));
    }
  });
});

describe('templates after a client restart', { timeout: 60_000 }, () => {
  let root = '';
  let server: VariablesServer;
  let agent: ClientAgent | null = null;
  let alloc: Allocation;

  const start = async (): Promise<ClientAgent> => {
    const config = resolveAgentConfig([
      {
        name: 'client-1',
        data_dir: root,
        client: { enabled: true, servers: [server.address] },
        plugin: { mock: { config: { enabled: true } } },
      },
    ]);
    return ClientAgent.start({ config, logger: pino({ level: 'silent' }), rpc: { holdTimeMs: 2000 } });
  };
  const webState = (): TaskState | undefined => server.state.allocation(alloc.ID)?.TaskStates.web;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-templates-restart-'));
    server = await startVariablesServer();
    await server.putVariable('default', 'nomad/jobs/restored', { version: '1' });
    agent = await start();
    await waitFor('node registered', () => server.state.node(agent!.identity.ID)?.Status === 'ready', 30_000);
  });

  after(async () => {
    if (alloc !== undefined) {
      await server.apply({
        type: 'plan-apply',
        v: 2,
        place: [],
        stop: [{ ID: alloc.ID, DesiredDescription: 'test over' }],
        evals: [],
        time: T0,
      });
      await waitFor('task stopped', () => webState()?.State === 'dead', 30_000).catch(() => undefined);
    }
    await agent?.close();
    await server?.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  test('change while away restarts the task', async () => {
    const job = makeJob({
      ID: 'restored',
      Name: 'restored',
      TaskGroups: [
        {
          Name: 'g',
          Count: 1,
          Tasks: [
            task('web', [
              template('local/version.txt', '{{ (nomadVar "nomad/jobs/restored").version }}', {
                ChangeMode: 'restart',
              }),
            ]),
          ],
        },
      ],
    });
    alloc = makeAlloc({
      NodeID: agent!.identity.ID,
      JobID: 'restored',
      Name: 'restored.g[0]',
      TaskGroup: 'g',
      TaskResources: { web: { CPU: 100, MemoryMB: 64 } },
      SignedIdentities: { web: '' },
    });
    await server.place(job, [alloc]);
    await waitFor('task running', () => webState()?.State === 'running', 30_000);
    const file = join(root, 'alloc', alloc.ID, 'web', 'local', 'version.txt');
    assert.equal(await readFile(file, 'utf8'), '1');

    await agent!.close();
    agent = null;
    await server.putVariable('default', 'nomad/jobs/restored', { version: '2' });
    agent = await start();

    await waitFor('restart after the client restart', () => webState()?.Restarts === 1, 30_000);
    assert.equal(await readFile(file, 'utf8'), '2');
    await waitFor('task running again', () => webState()?.State === 'running', 30_000);
    assert.equal(webState()?.Failed, false);
  });
});
