import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatMultiError,
  JobValidationError,
  listJobProblems,
  requireValidJob,
  validateJob,
} from '../../src/jobspec/index.js';
import type { Job, JobType } from '../../src/structs/job.js';
import { firstTask, type Mutable, validJob } from './fixtures.js';

interface RuleCase {
  readonly name: string;
  readonly change: (job: Mutable<Job>) => void;
  readonly field: string;
  /** A part of the problem's text that is Nomad's wording or names the value. */
  readonly wording: string;
}

const IDENTITY = { Name: 'default', Audience: ['nomadproject.io'], Env: false, File: true, TTL: 0 };
const TEMPLATE = { DestPath: 'local/x', EmbeddedTmpl: 'x', ChangeMode: 'restart' as const, Envvars: false };
const TASK_FIELD = 'TaskGroups[0].Tasks[0]';

const RULES: readonly RuleCase[] = [
  { name: 'missing ID', change: (job) => (job.ID = ''), field: 'ID', wording: 'Missing job ID' },
  {
    name: 'ID with a space',
    change: (job) => (job.ID = 'my job'),
    field: 'ID',
    wording: 'Job ID contains a space',
  },
  {
    name: 'ID with a null byte',
    change: (job) => (job.ID = 'a\0b'),
    field: 'ID',
    wording: 'Job ID contains a null character',
  },
  {
    name: 'ID over 128 characters',
    change: (job) => (job.ID = 'x'.repeat(129)),
    field: 'ID',
    wording: 'at most 128 characters, got 129',
  },
  { name: 'missing name', change: (job) => (job.Name = ''), field: 'Name', wording: 'Missing job name' },
  {
    name: 'name with a null byte',
    change: (job) => (job.Name = 'a\0'),
    field: 'Name',
    wording: 'Job Name contains a null character',
  },
  {
    name: 'missing namespace',
    change: (job) => (job.Namespace = ''),
    field: 'Namespace',
    wording: 'Job must be in a namespace',
  },
  {
    name: 'invalid namespace',
    change: (job) => (job.Namespace = 'a/b'),
    field: 'Namespace',
    wording: '"a/b"',
  },
  {
    name: 'system type',
    change: (job) => (job.Type = 'system' as JobType),
    field: 'Type',
    wording: 'Job type "system" is not supported',
  },
  {
    name: 'sysbatch type',
    change: (job) => (job.Type = 'sysbatch' as JobType),
    field: 'Type',
    wording: 'Job type "sysbatch" is not supported',
  },
  {
    name: 'unknown type',
    change: (job) => (job.Type = 'cron' as JobType),
    field: 'Type',
    wording: 'Invalid job type: "cron"',
  },
  {
    name: 'missing type',
    change: (job) => (job.Type = '' as JobType),
    field: 'Type',
    wording: 'Missing job type',
  },
  { name: 'priority 0', change: (job) => (job.Priority = 0), field: 'Priority', wording: 'between [1, 100]' },
  {
    name: 'priority 101',
    change: (job) => (job.Priority = 101),
    field: 'Priority',
    wording: 'between [1, 100]',
  },
  {
    name: 'no datacenters',
    change: (job) => (job.Datacenters = []),
    field: 'Datacenters',
    wording: 'Missing job datacenters',
  },
  {
    name: 'empty datacenter',
    change: (job) => (job.Datacenters = ['dc1', '']),
    field: 'Datacenters[1]',
    wording: 'non-empty string',
  },
  {
    name: 'no groups',
    change: (job) => (job.TaskGroups = []),
    field: 'TaskGroups',
    wording: 'Missing job task groups',
  },
  {
    name: 'duplicate group names',
    change: (job) => job.TaskGroups.push(structuredClone(job.TaskGroups[0]!)),
    field: 'TaskGroups[1].Name',
    wording: "Job task group 2 redefines 'cache' from group 1",
  },
  {
    name: 'missing group name',
    change: (job) => (job.TaskGroups[0]!.Name = ''),
    field: 'TaskGroups[0].Name',
    wording: 'Missing task group name',
  },
  {
    name: 'group name with a null byte',
    change: (job) => (job.TaskGroups[0]!.Name = 'c\0'),
    field: 'TaskGroups[0].Name',
    wording: 'Task group name contains null character',
  },
  {
    name: 'negative count',
    change: (job) => (job.TaskGroups[0]!.Count = -1),
    field: 'TaskGroups[0].Count',
    wording: "Task group count can't be negative",
  },
  {
    name: 'group without tasks',
    change: (job) => (job.TaskGroups[0]!.Tasks = []),
    field: 'TaskGroups[0].Tasks',
    wording: 'Missing tasks for task group',
  },
  {
    name: 'duplicate task names',
    change: (job) => job.TaskGroups[0]!.Tasks.push(structuredClone(firstTask(job))),
    field: 'TaskGroups[0].Tasks[1].Name',
    wording: "Task 2 redefines 'redis' from task 1",
  },
  {
    name: 'missing task name',
    change: (job) => (firstTask(job).Name = ''),
    field: `${TASK_FIELD}.Name`,
    wording: 'Missing task name',
  },
  {
    name: 'task named alloc',
    change: (job) => (firstTask(job).Name = 'alloc'),
    field: `${TASK_FIELD}.Name`,
    wording: 'Task cannot be named "alloc"',
  },
  {
    name: 'task named ..',
    change: (job) => (firstTask(job).Name = '..'),
    field: `${TASK_FIELD}.Name`,
    wording: 'Task cannot be named ".."',
  },
  {
    name: 'task name with a slash',
    change: (job) => (firstTask(job).Name = 'a/b'),
    field: `${TASK_FIELD}.Name`,
    wording: 'Task name cannot include slashes',
  },
  {
    name: 'task name with a backslash',
    change: (job) => (firstTask(job).Name = 'a\\b'),
    field: `${TASK_FIELD}.Name`,
    wording: 'Task name cannot include slashes',
  },
  {
    name: 'task name with a null byte',
    change: (job) => (firstTask(job).Name = 'a\0'),
    field: `${TASK_FIELD}.Name`,
    wording: 'Task name cannot include null characters',
  },
  {
    name: 'missing driver',
    change: (job) => (firstTask(job).Driver = ''),
    field: `${TASK_FIELD}.Driver`,
    wording: 'Missing task driver',
  },
  {
    name: 'CPU 0',
    change: (job) => (firstTask(job).Resources = { CPU: 0, MemoryMB: 300 }),
    field: `${TASK_FIELD}.Resources.CPU`,
    wording: 'minimum CPU value is 1; got 0',
  },
  {
    name: 'memory 9 MB',
    change: (job) => (firstTask(job).Resources = { CPU: 100, MemoryMB: 9 }),
    field: `${TASK_FIELD}.Resources.MemoryMB`,
    wording: 'minimum MemoryMB value is 10; got 9',
  },
  {
    name: 'negative kill timeout',
    change: (job) => (firstTask(job).KillTimeout = -1),
    field: `${TASK_FIELD}.KillTimeout`,
    wording: 'KillTimeout must be a positive value',
  },
  {
    name: 'named Identity',
    change: (job) => (firstTask(job).Identity = { ...IDENTITY, Name: 'vault' }),
    field: `${TASK_FIELD}.Identity.Name`,
    wording: 'list named identities in Identities',
  },
  {
    name: 'invalid identity name',
    change: (job) => (firstTask(job).Identities = [{ ...IDENTITY, Name: '../etc/passwd', Audience: ['a'] }]),
    field: `${TASK_FIELD}.Identities[0].Name`,
    wording: 'invalid name "../etc/passwd"',
  },
  {
    name: 'identity name over 128 characters',
    change: (job) => (firstTask(job).Identities = [{ ...IDENTITY, Name: 'n'.repeat(129), Audience: ['a'] }]),
    field: `${TASK_FIELD}.Identities[0].Name`,
    wording: 'invalid name',
  },
  {
    name: 'empty audience',
    change: (job) => (firstTask(job).Identities = [{ ...IDENTITY, Name: 'vault', Audience: ['ok', ''] }]),
    field: `${TASK_FIELD}.Identities[0].Audience[1]`,
    wording: 'an empty string is an invalid audience (2)',
  },
  {
    name: 'negative TTL',
    change: (job) => (firstTask(job).Identity = { ...IDENTITY, TTL: -1 }),
    field: `${TASK_FIELD}.Identity.TTL`,
    wording: 'ttl must be >= 0',
  },
  {
    name: 'Env not a boolean',
    change: (job) => (firstTask(job).Identity = { ...IDENTITY, Env: 'yes' as unknown as boolean }),
    field: `${TASK_FIELD}.Identity.Env`,
    wording: 'Env must be a boolean',
  },
  {
    name: 'File not a boolean',
    change: (job) => (firstTask(job).Identity = { ...IDENTITY, File: 1 as unknown as boolean }),
    field: `${TASK_FIELD}.Identity.File`,
    wording: 'File must be a boolean',
  },
  {
    name: 'duplicate identity names',
    change: (job) =>
      (firstTask(job).Identities = [
        { ...IDENTITY, Name: 'vault', Audience: ['v'] },
        { ...IDENTITY, Name: 'vault', Audience: ['v'] },
      ]),
    field: `${TASK_FIELD}.Identities[1].Name`,
    wording: 'Duplicate identity name "vault"',
  },
  {
    name: 'second default identity',
    change: (job) => {
      firstTask(job).Identity = { ...IDENTITY };
      firstTask(job).Identities = [{ ...IDENTITY }];
    },
    field: `${TASK_FIELD}.Identities[0].Name`,
    wording: 'Duplicate default identities found',
  },
  {
    name: 'template without destination',
    change: (job) => (firstTask(job).Templates = [{ ...TEMPLATE, DestPath: '' }]),
    field: `${TASK_FIELD}.Templates[0].DestPath`,
    wording: 'Must specify a destination for the template',
  },
  {
    name: 'template escaping the allocation',
    change: (job) => (firstTask(job).Templates = [{ ...TEMPLATE, DestPath: '../../etc/cron.d/x' }]),
    field: `${TASK_FIELD}.Templates[0].DestPath`,
    wording: 'destination escapes allocation directory',
  },
  {
    name: 'template without text',
    change: (job) => (firstTask(job).Templates = [{ ...TEMPLATE, EmbeddedTmpl: '' }]),
    field: `${TASK_FIELD}.Templates[0].EmbeddedTmpl`,
    wording: 'Must specify an embedded template',
  },
  {
    name: 'template change mode',
    change: (job) => (firstTask(job).Templates = [{ ...TEMPLATE, ChangeMode: 'script' as 'noop' }]),
    field: `${TASK_FIELD}.Templates[0].ChangeMode`,
    wording: 'Invalid change mode "script"',
  },
  {
    name: 'signal mode with env templates',
    change: (job) => (firstTask(job).Templates = [{ ...TEMPLATE, ChangeMode: 'signal', Envvars: true }]),
    field: `${TASK_FIELD}.Templates[0].ChangeMode`,
    wording: 'cannot use signals with env var templates',
  },
  {
    name: 'two templates, one destination',
    change: (job) => (firstTask(job).Templates = [{ ...TEMPLATE }, { ...TEMPLATE }]),
    field: `${TASK_FIELD}.Templates[1].DestPath`,
    wording: 'Template 2 has same destination as 1',
  },
];

describe('validateJob rules', () => {
  test('valid job has no problems', () => {
    assert.deepEqual(validateJob(validJob()), []);
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      const problems = listJobProblems(validJob(rule.change));
      assert.deepEqual(
        problems.map((problem) => problem.field),
        [rule.field],
      );
      assert.ok(problems[0]!.text.includes(rule.wording), `"${problems[0]!.text}" lacks "${rule.wording}"`);
    });
  }
});

describe('validateJob accepts', () => {
  const accepted: readonly [string, (job: Mutable<Job>) => void][] = [
    ['count 0', (job) => (job.TaskGroups[0]!.Count = 0)],
    ['kill timeout 0', (job) => (firstTask(job).KillTimeout = 0)],
    ['batch type', (job) => (job.Type = 'batch')],
    ['priority 1 and 100', (job) => (job.Priority = 100)],
    ['ID of 128 characters', (job) => (job.ID = 'x'.repeat(128))],
    [
      'TTL on the default identity',
      (job) => (firstTask(job).Identity = { ...IDENTITY, TTL: 3_600_000_000_000 }),
    ],
    [
      'template in the shared alloc folder',
      (job) => (firstTask(job).Templates = [{ ...TEMPLATE, DestPath: '../alloc/x' }]),
    ],
    [
      'absolute template destination',
      (job) => (firstTask(job).Templates = [{ ...TEMPLATE, DestPath: '/local/x' }]),
    ],
    [
      'named identity without audience',
      (job) => (firstTask(job).Identities = [{ ...IDENTITY, Name: 'x', Audience: [] }]),
    ],
    [
      'same task name in two groups',
      (job) => job.TaskGroups.push({ ...structuredClone(job.TaskGroups[0]!), Name: 'db' }),
    ],
  ];
  for (const [name, change] of accepted) {
    test(name, () => assert.deepEqual(validateJob(validJob(change)), []));
  }
});

describe('validateJob many problems', () => {
  const broken = validJob((job) => {
    job.ID = 'bad id';
    job.Priority = 0;
    job.TaskGroups.push({ Name: 'cache', Count: -2, Tasks: [] });
    firstTask(job).Driver = '';
    firstTask(job).Resources = { CPU: 0, MemoryMB: 1 };
  });

  test('lists every problem', () => {
    assert.deepEqual(
      listJobProblems(broken).map((problem) => problem.field),
      [
        'ID',
        'Priority',
        'TaskGroups[1].Name',
        'TaskGroups[0].Tasks[0].Driver',
        'TaskGroups[0].Tasks[0].Resources.CPU',
        'TaskGroups[0].Tasks[0].Resources.MemoryMB',
        'TaskGroups[1].Count',
        'TaskGroups[1].Tasks',
      ],
    );
  });

  test('names the group and task', () => {
    const problems = validateJob(broken);
    assert.ok(problems.includes('group "cache" task "redis": Missing task driver'));
    assert.ok(problems.includes(`group "cache": Missing tasks for task group`));
  });

  test('requireValidJob raises them all', () => {
    assert.throws(
      () => requireValidJob(broken),
      (err: unknown) =>
        err instanceof JobValidationError && err.code === 'INVALID_JOB' && err.problems.length === 8,
    );
    assert.equal(requireValidJob(validJob()).ID, 'example');
  });
});

describe('JobValidationError message', () => {
  test('uses the multi-error form', () => {
    assert.equal(formatMultiError(['Missing job ID']), '1 error occurred:\n\t* Missing job ID\n\n');
    assert.equal(formatMultiError(['a', 'b']), '2 errors occurred:\n\t* a\n\t* b\n\n');
  });

  test('keeps problems and details', () => {
    const err = new JobValidationError(['a', 'b']);
    assert.equal(err.message, '2 errors occurred:\n\t* a\n\t* b\n\n');
    assert.deepEqual(err.problems, ['a', 'b']);
    assert.equal(err.code, 'INVALID_JOB');
    assert.equal(err.line, null);
  });
});
