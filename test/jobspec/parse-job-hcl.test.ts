import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { canonicalizeJob, JobValidationError, parseJobHcl } from '../../src/jobspec/index.js';
import { EXAMPLE_JSON } from './fixtures.js';

const EXAMPLE_PATH = new URL('../../examples/example.nomad.hcl', import.meta.url);

/** Wraps task settings in a job with group `cache` and task `redis`. */
function jobWithTask(taskBody: string, groupBody = ''): string {
  return `job "example" {\n  group "cache" {\n${groupBody}\n    task "redis" {\n      driver = "raw_exec"\n${taskBody}\n    }\n  }\n}\n`;
}

/** Parses text that must be rejected and returns the error. */
function rejection(text: string): JobValidationError {
  try {
    parseJobHcl(text, 'test.nomad.hcl');
  } catch (err) {
    assert.ok(err instanceof JobValidationError, `expected JobValidationError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a JobValidationError');
}

function rejectedFields(text: string): string[] {
  return rejection(text).details.map((problem) => problem.field);
}

describe('parseJobHcl example', () => {
  test('example file parses', async () => {
    const job = parseJobHcl(await readFile(EXAMPLE_PATH, 'utf8'), 'example.nomad.hcl');
    assert.equal(job.ID, 'example');
    assert.equal(job.TaskGroups[0]!.Name, 'cache');
    const task = job.TaskGroups[0]!.Tasks[0]!;
    assert.equal(task.Name, 'redis');
    assert.equal(task.Driver, 'raw_exec');
    assert.equal(task.Config.command, '/bin/sleep');
  });

  test('example equals its JSON form', async () => {
    const fromHcl = parseJobHcl(await readFile(EXAMPLE_PATH, 'utf8'), 'example.nomad.hcl');
    assert.deepEqual(fromHcl, canonicalizeJob(EXAMPLE_JSON));
  });
});

describe('parseJobHcl mapping', () => {
  test('maps job settings', () => {
    const job = parseJobHcl(
      `job "web" {\n  name = "Web"\n  namespace = "apps"\n  type = "batch"\n  priority = 70\n  datacenters = ["dc1", "dc2"]\n  group "g" {\n    count = 3\n    task "t" { driver = "mock" }\n  }\n}`,
      'web.hcl',
    );
    assert.equal(job.ID, 'web');
    assert.equal(job.Name, 'Web');
    assert.equal(job.Namespace, 'apps');
    assert.equal(job.Type, 'batch');
    assert.equal(job.Priority, 70);
    assert.deepEqual(job.Datacenters, ['dc1', 'dc2']);
    assert.equal(job.TaskGroups[0]!.Count, 3);
  });

  test('keeps groups and tasks in source order', () => {
    const job = parseJobHcl(
      'job "j" {\n group "z" { task "b" { driver = "mock" }\n task "a" { driver = "mock" } }\n group "y" { task "c" { driver = "mock" } }\n}',
      'j.hcl',
    );
    assert.deepEqual(
      job.TaskGroups.map((group) => [group.Name, group.Tasks.map((task) => task.Name)]),
      [
        ['z', ['b', 'a']],
        ['y', ['c']],
      ],
    );
  });

  test('maps resources, env and kill_timeout', () => {
    const job = parseJobHcl(
      jobWithTask(
        'resources {\n cpu = 250\n memory = 64\n }\n env {\n PORT = 8080\n DEBUG = true\n NAME = "x"\n }\n kill_timeout = "1m30s"',
      ),
      't.hcl',
    );
    const task = job.TaskGroups[0]!.Tasks[0]!;
    assert.deepEqual(task.Resources, { CPU: 250, MemoryMB: 64 });
    assert.deepEqual(task.Env, { PORT: '8080', DEBUG: 'true', NAME: 'x' });
    assert.equal(task.KillTimeout, 90_000_000_000);
  });

  test('keeps nested config blocks', () => {
    const job = parseJobHcl(
      jobWithTask('config {\n command = "/bin/echo"\n args = ["a", "b"]\n limits { files = 10 }\n }'),
      't.hcl',
    );
    assert.deepEqual(job.TaskGroups[0]!.Tasks[0]!.Config, {
      command: '/bin/echo',
      args: ['a', 'b'],
      limits: [{ files: 10 }],
    });
  });

  test('maps identity blocks', () => {
    const job = parseJobHcl(
      jobWithTask(
        'identity {\n env = true\n file = true\n }\n identity {\n name = "vault"\n aud = ["vault.io"]\n ttl = "1h"\n file = true\n change_mode = "restart"\n }',
      ),
      't.hcl',
    );
    const task = job.TaskGroups[0]!.Tasks[0]!;
    assert.deepEqual(task.Identity, {
      Name: 'default',
      Audience: ['nomadproject.io'],
      Env: true,
      File: true,
      TTL: 0,
    });
    assert.deepEqual(task.Identities, [
      { Name: 'vault', Audience: ['vault.io'], Env: false, File: true, TTL: 3_600_000_000_000 },
    ]);
  });

  test('maps template blocks', () => {
    const job = parseJobHcl(
      jobWithTask(
        'template {\n data = "A={{ env \\"X\\" }}"\n destination = "secrets/app.env"\n env = true\n change_mode = "restart"\n }\n template {\n data = <<EOT\nline one\nEOT\n destination = "local/one.txt"\n change_mode = "signal"\n change_signal = "SIGHUP"\n }',
      ),
      't.hcl',
    );
    assert.deepEqual(job.TaskGroups[0]!.Tasks[0]!.Templates, [
      { DestPath: 'secrets/app.env', EmbeddedTmpl: 'A={{ env "X" }}', ChangeMode: 'restart', Envvars: true },
      { DestPath: 'local/one.txt', EmbeddedTmpl: 'line one\n', ChangeMode: 'signal', Envvars: false },
    ]);
  });

  test('reads the JSON form of HCL', () => {
    const job = parseJobHcl(
      JSON.stringify({
        job: { web: { group: { g: { task: { t: { driver: 'mock', resources: { memory: 32 } } } } } } },
      }),
      'web.json',
    );
    assert.equal(job.TaskGroups[0]!.Tasks[0]!.Resources.MemoryMB, 32);
  });
});

describe('parseJobHcl problems', () => {
  test('syntax error names the line', () => {
    const err = rejection('job "x" {\n  group "g" {\n    count = \n  }\n');
    assert.equal(err.code, 'INVALID_SYNTAX');
    assert.equal(typeof err.line, 'number');
    assert.ok(err.line! >= 3, `line ${err.line}`);
    assert.ok(err.problems[0]!.startsWith(`test.nomad.hcl: invalid HCL syntax at line ${err.line}`));
  });

  test('unknown keys and blocks', () => {
    const err = rejection(jobWithTask('resources {\n memry = 128\n }\n drivr = "x"\n widget {}', 'cnt = 1'));
    assert.equal(err.code, 'INVALID_JOB');
    assert.deepEqual(err.details.map((problem) => problem.field).sort(), [
      'job.group.cache.cnt',
      'job.group.cache.task.redis.drivr',
      'job.group.cache.task.redis.resources.memry',
      'job.group.cache.task.redis.widget',
    ]);
    assert.ok(
      err.problems.includes('group "cache" task "redis": "memry" in the resources block is not a known key'),
    );
  });

  test('Nomad blocks that Signet lacks', () => {
    const err = rejection(jobWithTask('service {\n name = "web"\n }', 'network {\n mode = "host"\n }'));
    assert.deepEqual(err.details.map((problem) => problem.field).sort(), [
      'job.group.cache.network',
      'job.group.cache.task.redis.service',
    ]);
    assert.ok(
      err.problems.includes(
        'group "cache" task "redis": "service" in the task block is not supported by Signet',
      ),
    );
  });

  test('unknown top-level key', () => {
    assert.deepEqual(rejectedFields(`variable = 1\n${jobWithTask('')}`), ['variable']);
  });

  test('no job block', () => {
    assert.deepEqual(rejectedFields('other = 1'), ['other', 'job']);
  });

  test('two job blocks', () => {
    assert.deepEqual(rejectedFields(`${jobWithTask('')}\njob "second" {}`), ['job']);
  });

  test('job block without label', () => {
    assert.deepEqual(rejectedFields('job {\n type = "batch"\n}'), ['job']);
  });

  test('group block without label', () => {
    assert.deepEqual(rejectedFields('job "j" {\n group {\n count = 1\n }\n}'), ['job.group', 'TaskGroups']);
  });

  test('repeated single block', () => {
    assert.deepEqual(rejectedFields(jobWithTask('resources { cpu = 100 }\n resources { cpu = 200 }')), [
      'job.group.cache.task.redis.resources',
    ]);
  });

  test('invalid durations', () => {
    assert.deepEqual(
      rejectedFields(jobWithTask('kill_timeout = "5 seconds"\n identity {\n name = "v"\n ttl = 60\n }')),
      ['job.group.cache.task.redis.identity.ttl', 'job.group.cache.task.redis.kill_timeout'],
    );
  });

  test('env block with a list value', () => {
    assert.deepEqual(rejectedFields(jobWithTask('env {\n A = ["x"]\n }')), [
      'job.group.cache.task.redis.env.A',
    ]);
  });

  test('value of the wrong type', () => {
    const err = rejection(jobWithTask('', 'count = "two"'));
    assert.deepEqual(
      err.details.map((problem) => problem.field),
      ['TaskGroups[0].Count'],
    );
    assert.ok(err.problems[0]!.startsWith('group "cache": Count: expected an integer'));
  });

  test('validation problems with HCL problems', () => {
    const err = rejection(
      'job "bad id" {\n type = "system"\n group "g" {\n task "t" {\n resources { memory = 1 }\n user = "root"\n }\n }\n}',
    );
    assert.deepEqual(err.details.map((problem) => problem.field).sort(), [
      'ID',
      'TaskGroups[0].Tasks[0].Driver',
      'TaskGroups[0].Tasks[0].Resources.MemoryMB',
      'Type',
      'job.group.g.task.t.user',
    ]);
    assert.match(err.message, /^5 errors occurred:\n\t\* /);
  });
});
