import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalizeJob, JOB_DEFAULTS, JobValidationError, validateJob } from '../../src/jobspec/index.js';
import { EXAMPLE_JSON } from './fixtures.js';

const MINIMAL = { ID: 'web', TaskGroups: [{ Name: 'g', Tasks: [{ Name: 't', Driver: 'mock' }] }] };

/** Runs `action`, which must raise JobValidationError, and returns the fields it reports. */
function rejectedFields(action: () => unknown): string[] {
  try {
    action();
  } catch (err) {
    assert.ok(err instanceof JobValidationError, `expected JobValidationError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_JOB');
    assert.equal(err.details.length, err.problems.length);
    return err.details.map((problem) => problem.field);
  }
  assert.fail('expected a JobValidationError');
}

describe('canonicalizeJob defaults', () => {
  test('fills job defaults', () => {
    const job = canonicalizeJob(MINIMAL);
    assert.equal(job.Name, 'web');
    assert.equal(job.Namespace, 'default');
    assert.equal(job.Type, 'service');
    assert.equal(job.Priority, 50);
    assert.deepEqual(job.Datacenters, ['*']);
    assert.equal(job.Status, 'pending');
    assert.equal(job.Stop, false);
    assert.equal(job.ParentID, '');
    assert.equal(job.CreateIndex, 0);
    assert.equal(job.ModifyIndex, 0);
    assert.equal(job.JobModifyIndex, 0);
    assert.equal(job.SubmitTime, 0);
  });

  test('fills group and task defaults', () => {
    const job = canonicalizeJob(MINIMAL);
    const group = job.TaskGroups[0]!;
    const task = group.Tasks[0]!;
    assert.equal(group.Count, 1);
    assert.deepEqual(task.Resources, { CPU: 100, MemoryMB: 300 });
    assert.equal(task.KillTimeout, 5_000_000_000);
    assert.equal(task.Identity, null);
    assert.deepEqual(task.Identities, []);
    assert.equal(task.Env, null);
    assert.deepEqual(task.Templates, []);
    assert.deepEqual(task.Config, {});
  });

  test('fills a partial Resources field by field', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, { Resources: { MemoryMB: 64 } });
    assert.deepEqual(canonicalizeJob(input).TaskGroups[0]!.Tasks[0]!.Resources, { CPU: 100, MemoryMB: 64 });
  });

  test('keeps explicit zero count', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!, { Count: 0 });
    assert.equal(canonicalizeJob(input).TaskGroups[0]!.Count, 0);
  });

  test('treats null as absent', () => {
    const job = canonicalizeJob({ ...MINIMAL, Name: null, Priority: null, Datacenters: null, Meta: null });
    assert.equal(job.Name, 'web');
    assert.equal(job.Priority, JOB_DEFAULTS.Priority);
    assert.deepEqual(job.Datacenters, ['*']);
  });

  test('replaces an empty datacenter list by *', () => {
    assert.deepEqual(canonicalizeJob({ ...MINIMAL, Datacenters: [] }).Datacenters, ['*']);
  });

  test('fills template defaults', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, {
      Templates: [{ EmbeddedTmpl: 'x', DestPath: 'local/x' }],
    });
    const [template] = canonicalizeJob(input).TaskGroups[0]!.Tasks[0]!.Templates;
    assert.deepEqual(template, {
      DestPath: 'local/x',
      EmbeddedTmpl: 'x',
      ChangeMode: 'restart',
      Envvars: false,
    });
  });
});

describe('canonicalizeJob fields', () => {
  test('reads the example job', () => {
    const job = canonicalizeJob(EXAMPLE_JSON);
    const task = job.TaskGroups[0]!.Tasks[0]!;
    assert.equal(task.Driver, 'raw_exec');
    assert.deepEqual(task.Config, { command: '/bin/sleep', args: ['3600'] });
    assert.deepEqual(task.Env, { GREETING: 'hello' });
    assert.deepEqual(task.Resources, { CPU: 100, MemoryMB: 128 });
    assert.equal(task.Templates[0]!.ChangeMode, 'noop');
  });

  test('matches field names in any letter case', () => {
    const job = canonicalizeJob({
      id: 'web',
      taskgroups: [{ NAME: 'g', tasks: [{ name: 't', driver: 'mock' }] }],
    });
    assert.equal(job.ID, 'web');
    assert.equal(job.TaskGroups[0]!.Name, 'g');
    assert.equal(job.TaskGroups[0]!.Tasks[0]!.Driver, 'mock');
  });

  test('lets the later of two matching keys win', () => {
    assert.equal(canonicalizeJob({ ...MINIMAL, priority: 10, Priority: 20 }).Priority, 20);
    assert.equal(canonicalizeJob({ ...MINIMAL, Priority: 20, priority: 10 }).Priority, 10);
  });

  test('ignores unimplemented Nomad fields', () => {
    const job = canonicalizeJob({
      ...MINIMAL,
      Region: 'global',
      Meta: { owner: 'ops' },
      Constraints: [{ LTarget: 'attr.kernel.name', RTarget: 'linux', Operand: '=' }],
      Update: { MaxParallel: 1 },
      NotANomadField: 42,
    });
    assert.equal(job.ID, 'web');
  });

  test('rejects an unimplemented field of the wrong type', () => {
    assert.deepEqual(
      rejectedFields(() => canonicalizeJob({ ...MINIMAL, Meta: { replicas: 3 }, AllAtOnce: 'yes' })),
      ['Meta', 'AllAtOnce'],
    );
  });

  test('resets fields the servers set', () => {
    const job = canonicalizeJob({
      ...MINIMAL,
      ParentID: 'other-job',
      Status: 'running',
      CreateIndex: 7,
      ModifyIndex: 8,
      JobModifyIndex: 9,
      SubmitTime: 10,
    });
    assert.equal(job.ParentID, '');
    assert.equal(job.Status, 'pending');
    assert.equal(job.CreateIndex, 0);
    assert.equal(job.JobModifyIndex, 0);
    assert.equal(job.SubmitTime, 0);
  });

  test('keeps Stop', () => {
    assert.equal(canonicalizeJob({ ...MINIMAL, Stop: true }).Stop, true);
  });

  test('forces the default identity audience', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, {
      Identity: { Audience: ['elsewhere'], Env: true, TTL: 3_600_000_000_000 },
      Identities: [{ Name: 'vault', Audience: ['vault.io'], File: true }],
    });
    const task = canonicalizeJob(input).TaskGroups[0]!.Tasks[0]!;
    assert.deepEqual(task.Identity, {
      Name: 'default',
      Audience: ['nomadproject.io'],
      Env: true,
      File: false,
      TTL: 3_600_000_000_000,
    });
    assert.deepEqual(task.Identities, [
      { Name: 'vault', Audience: ['vault.io'], Env: false, File: true, TTL: 0 },
    ]);
  });

  test('moves a listed default identity to Identity', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, { Identities: [{ Name: 'vault' }, { File: true }] });
    const task = canonicalizeJob(input).TaskGroups[0]!.Tasks[0]!;
    assert.equal(task.Identity?.Name, 'default');
    assert.equal(task.Identity?.File, true);
    assert.deepEqual(
      task.Identities.map((identity) => identity.Name),
      ['vault'],
    );
  });
});

describe('canonicalizeJob problems', () => {
  test('rejects a non-object job', () => {
    for (const input of [null, 'job', 42, [], true]) {
      assert.deepEqual(
        rejectedFields(() => canonicalizeJob(input)),
        ['Job'],
      );
    }
  });

  test('rejects system and sysbatch types', () => {
    for (const type of ['system', 'sysbatch']) {
      assert.throws(
        () => canonicalizeJob({ ...MINIMAL, Type: type }),
        (err: unknown) =>
          err instanceof JobValidationError &&
          err.details[0]?.field === 'Type' &&
          err.problems[0]!.includes('not supported'),
      );
    }
  });

  test('rejects an unknown type', () => {
    assert.deepEqual(
      rejectedFields(() => canonicalizeJob({ ...MINIMAL, Type: 'cron' })),
      ['Type'],
    );
  });

  test('rejects non-integer numbers', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!, { Count: 1.5 });
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, { Resources: { CPU: '100' }, KillTimeout: '5s' });
    assert.deepEqual(
      rejectedFields(() => canonicalizeJob({ ...input, Priority: 2 ** 60 })),
      [
        'Priority',
        'TaskGroups[0].Count',
        'TaskGroups[0].Tasks[0].KillTimeout',
        'TaskGroups[0].Tasks[0].Resources.CPU',
      ],
    );
  });

  test('rejects env values that are not strings', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, { Env: { PORT: 8080 } });
    assert.deepEqual(
      rejectedFields(() => canonicalizeJob(input)),
      ['TaskGroups[0].Tasks[0].Env'],
    );
  });

  test('rejects identity booleans and audiences of the wrong type', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, {
      Identities: [{ Name: 'a', Env: 'true', File: 1, Audience: 'x' }],
    });
    assert.deepEqual(
      rejectedFields(() => canonicalizeJob(input)),
      [
        'TaskGroups[0].Tasks[0].Identities[0].Env',
        'TaskGroups[0].Tasks[0].Identities[0].File',
        'TaskGroups[0].Tasks[0].Identities[0].Audience',
      ],
    );
  });

  test('rejects template features Signet lacks', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, {
      Templates: [
        { EmbeddedTmpl: 'x', DestPath: 'local/a', ChangeMode: 'signal', ChangeSignal: 'sigusr1' },
        { SourcePath: 'local/in.tpl', DestPath: 'local/b' },
        { EmbeddedTmpl: 'x', DestPath: 'local/c', ChangeMode: 'script' },
      ],
    });
    assert.deepEqual(
      rejectedFields(() => canonicalizeJob(input)),
      [
        'TaskGroups[0].Tasks[0].Templates[0].ChangeSignal',
        'TaskGroups[0].Tasks[0].Templates[1].SourcePath',
        'TaskGroups[0].Tasks[0].Templates[2].ChangeMode',
        // The template without SourcePath has no text either, which validation reports.
        'TaskGroups[0].Tasks[0].Templates[1].EmbeddedTmpl',
      ],
    );
  });

  test('accepts SIGHUP in signal mode', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, {
      Templates: [{ EmbeddedTmpl: 'x', DestPath: 'local/a', ChangeMode: 'signal', ChangeSignal: 'sighup' }],
    });
    assert.equal(canonicalizeJob(input).TaskGroups[0]!.Tasks[0]!.Templates[0]!.ChangeMode, 'signal');
  });

  test('lists validation problems beside type problems', () => {
    const fields = rejectedFields(() =>
      canonicalizeJob({
        ID: 'has space',
        Priority: 'high',
        TaskGroups: [7, { Name: 'g', Count: -1, Tasks: [{ Name: 't', Driver: 3 }] }],
      }),
    );
    assert.deepEqual(fields, [
      'Priority',
      'TaskGroups[0]',
      'TaskGroups[1].Tasks[0].Driver',
      'ID',
      'TaskGroups[1].Count',
    ]);
  });

  test('names group and task in type problems', () => {
    const input = structuredClone(MINIMAL);
    Object.assign(input.TaskGroups[0]!.Tasks[0]!, { Resources: { MemoryMB: 'lots' } });
    assert.throws(
      () => canonicalizeJob(input),
      (err: unknown) =>
        err instanceof JobValidationError &&
        err.problems[0]!.startsWith('group "g" task "t": Resources.MemoryMB:'),
    );
  });
});

describe('canonicalizeJob fuzz', () => {
  const anyJson = fc.jsonValue({ maxDepth: 6 });
  const nearJob = fc.record(
    {
      ID: fc.oneof(fc.string(), anyJson),
      Name: anyJson,
      Type: fc.oneof(fc.constantFrom('service', 'batch', 'system', ''), anyJson),
      Priority: anyJson,
      Datacenters: anyJson,
      Meta: anyJson,
      TaskGroups: fc.array(
        fc.oneof(
          anyJson,
          fc.record(
            {
              Name: anyJson,
              Count: anyJson,
              Tasks: fc.array(
                fc.oneof(
                  anyJson,
                  fc.record(
                    {
                      Name: anyJson,
                      Driver: anyJson,
                      Config: anyJson,
                      Env: anyJson,
                      Resources: fc.oneof(anyJson, fc.record({ CPU: anyJson, MemoryMB: anyJson })),
                      Identity: anyJson,
                      Identities: fc.array(
                        fc.oneof(anyJson, fc.record({ Name: anyJson, Audience: anyJson, TTL: anyJson })),
                      ),
                      Templates: fc.array(
                        fc.oneof(
                          anyJson,
                          fc.record({ DestPath: anyJson, ChangeMode: anyJson, EmbeddedTmpl: anyJson }),
                        ),
                      ),
                      KillTimeout: anyJson,
                    },
                    { requiredKeys: [] },
                  ),
                ),
              ),
            },
            { requiredKeys: [] },
          ),
        ),
      ),
    },
    { requiredKeys: [] },
  );

  test('raises only JobValidationError', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, nearJob), (input) => {
        try {
          const job = canonicalizeJob(input);
          assert.ok(Array.isArray(validateJob(job)));
        } catch (err) {
          if (!(err instanceof JobValidationError)) throw err;
          assert.ok(err.problems.length > 0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
