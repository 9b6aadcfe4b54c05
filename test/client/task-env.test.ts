import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AllocDir } from '../../src/client/alloc-dir.js';
import { allocIndexFromName, buildTaskEnv, type TaskEnvInput } from '../../src/client/task-env.js';

const taskDir = new AllocDir('/data', '9d8c7b6a-0000-4000-8000-000000000001').taskDir('server');

function input(overrides: Partial<TaskEnvInput> = {}): TaskEnvInput {
  return {
    allocId: '9d8c7b6a-0000-4000-8000-000000000001',
    allocName: 'web.frontend[2]',
    namespace: 'prod',
    jobId: 'web',
    jobName: 'Web Site',
    groupName: 'frontend',
    task: { Name: 'server', Env: null, Resources: { CPU: 250, MemoryMB: 128 } },
    taskDir,
    hostEnv: {},
    ...overrides,
  };
}

describe('buildTaskEnv', () => {
  test('NOMAD_* variables', () => {
    const env = buildTaskEnv(input());
    assert.equal(env.NOMAD_ALLOC_ID, '9d8c7b6a-0000-4000-8000-000000000001');
    assert.equal(env.NOMAD_SHORT_ALLOC_ID, '9d8c7b6a');
    assert.equal(env.NOMAD_ALLOC_NAME, 'web.frontend[2]');
    assert.equal(env.NOMAD_ALLOC_INDEX, '2');
    assert.equal(env.NOMAD_JOB_ID, 'web');
    assert.equal(env.NOMAD_JOB_NAME, 'Web Site');
    assert.equal(env.NOMAD_NAMESPACE, 'prod');
    assert.equal(env.NOMAD_GROUP_NAME, 'frontend');
    assert.equal(env.NOMAD_TASK_NAME, 'server');
    assert.equal(env.NOMAD_ALLOC_DIR, '/data/alloc/9d8c7b6a-0000-4000-8000-000000000001/alloc');
    assert.equal(env.NOMAD_TASK_DIR, '/data/alloc/9d8c7b6a-0000-4000-8000-000000000001/server/local');
    assert.equal(env.NOMAD_SECRETS_DIR, '/data/alloc/9d8c7b6a-0000-4000-8000-000000000001/server/secrets');
    assert.equal(env.NOMAD_CPU_LIMIT, '250');
    assert.equal(env.NOMAD_MEMORY_LIMIT, '128');
  });

  test('task env overrides host env and NOMAD_* variables', () => {
    const env = buildTaskEnv(
      input({
        hostEnv: { PATH: '/bin', LANG: 'C' },
        task: {
          Name: 'server',
          Env: { PATH: '/opt/bin', NOMAD_TASK_NAME: 'renamed' },
          Resources: { CPU: 1, MemoryMB: 1 },
        },
      }),
    );
    assert.equal(env.PATH, '/opt/bin');
    assert.equal(env.LANG, 'C');
    assert.equal(env.NOMAD_TASK_NAME, 'renamed');
  });

  test('host env never overrides NOMAD_* variables', () => {
    const env = buildTaskEnv(input({ hostEnv: { NOMAD_ALLOC_ID: 'from-host' } }));
    assert.equal(env.NOMAD_ALLOC_ID, '9d8c7b6a-0000-4000-8000-000000000001');
  });

  test('host env deny list and undefined values are left out', () => {
    const env = buildTaskEnv(
      input({
        hostEnv: { VAULT_TOKEN: 's.secret', AWS_SECRET_ACCESS_KEY: 'k', EMPTY: undefined, HOME: '/root' },
      }),
    );
    assert.equal(env.VAULT_TOKEN, undefined);
    assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
    assert.equal('EMPTY' in env, false);
    assert.equal(env.HOME, '/root');

    const custom = buildTaskEnv(input({ hostEnv: { HOME: '/root' }, hostEnvDenylist: ['HOME'] }));
    assert.equal(custom.HOME, undefined);
  });

  test('agent secrets never pass, whatever the deny list', () => {
    const hostEnv = {
      SIGNET_ENCRYPT: 'cluster-key',
      SIGNET_TOKEN: 'operator',
      NOMAD_TOKEN: 'operator',
      HOME: '/root',
    };
    for (const hostEnvDenylist of [undefined, []]) {
      const env = buildTaskEnv(input({ hostEnv, hostEnvDenylist }));
      assert.equal('SIGNET_ENCRYPT' in env, false);
      assert.equal('SIGNET_TOKEN' in env, false);
      assert.equal('NOMAD_TOKEN' in env, false);
      assert.equal(env.HOME, '/root');
    }
  });

  test('hook env overrides task env', () => {
    const env = buildTaskEnv(
      input({
        task: { Name: 'server', Env: { NOMAD_TOKEN: 'from-task' }, Resources: { CPU: 1, MemoryMB: 1 } },
        hookEnv: { NOMAD_TOKEN: 'from-identity' },
      }),
    );
    assert.equal(env.NOMAD_TOKEN, 'from-identity');
  });

  test('task env values interpolate variables', () => {
    const env = buildTaskEnv(
      input({
        hostEnv: { HOME: '/home/app' },
        task: {
          Name: 'server',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: Nomad's interpolation syntax, not a template.
          Env: { DATA: '${NOMAD_ALLOC_DIR}/data', CACHE: '${HOME}/cache', KEEP: '${UNKNOWN} and ${DATA}' },
          Resources: { CPU: 1, MemoryMB: 1 },
        },
      }),
    );
    assert.equal(env.DATA, '/data/alloc/9d8c7b6a-0000-4000-8000-000000000001/alloc/data');
    assert.equal(env.CACHE, '/home/app/cache');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Nomad's interpolation syntax, not a template.
    assert.equal(env.KEEP, '${UNKNOWN} and ${DATA}');
  });
});

describe('allocIndexFromName', () => {
  test('reads the bracketed index', () => {
    assert.equal(allocIndexFromName('web.frontend[0]'), 0);
    assert.equal(allocIndexFromName('a.b[c].d[17]'), 17);
    assert.equal(allocIndexFromName('web.frontend'), null);
    assert.equal(allocIndexFromName('web.frontend[x]'), null);
  });
});
