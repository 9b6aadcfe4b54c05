import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileAcl,
  type JobAcl,
  parsePolicy,
  selectWorkloadPolicies,
  validateJobAcl,
  type WorkloadScope,
} from '../../src/acl/index.js';

function jobAcl(Namespace: string, JobID = '', Group = '', Task = ''): JobAcl {
  return { Namespace, JobID, Group, Task };
}

describe('validateJobAcl (Nomad ACLPolicy.Validate)', () => {
  const cases: [string, JobAcl | null, string[]][] = [
    ['none', null, []],
    ['namespace only', jobAcl('default'), []],
    ['job', jobAcl('default', 'example'), []],
    ['group', jobAcl('default', 'example', 'cache'), []],
    ['task', jobAcl('default', 'example', 'cache', 'redis'), []],
    ['job without namespace', jobAcl('', 'example'), ['namespace must be set to set job ID']],
    ['group without job', jobAcl('default', '', 'cache'), ['job ID must be set to set group']],
    ['task without group', jobAcl('default', 'example', '', 'redis'), ['group must be set to set task']],
    ['task alone', jobAcl('', '', '', 'redis'), ['group must be set to set task']],
    [
      'every error at once',
      jobAcl('', 'example', '', 'redis'),
      ['namespace must be set to set job ID', 'group must be set to set task'],
    ],
    ['group and task without job', jobAcl('', '', 'cache', 'redis'), ['job ID must be set to set group']],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      assert.deepEqual(validateJobAcl(input), expected);
    });
  }
});

interface NamedPolicy {
  readonly Name: string;
  readonly JobACL: JobAcl | null;
}

/** Nomad's TestResolveClaims policies: job J, group `web`, task `web`, namespace `default`. */
const POLICIES: readonly NamedPolicy[] = [
  { Name: 'p0', JobACL: null },
  { Name: 'p1', JobACL: jobAcl('default', 'J') },
  { Name: 'p2', JobACL: jobAcl('default', 'J', 'web') },
  { Name: 'p3', JobACL: jobAcl('default', 'J', 'web', 'web') },
  { Name: 'p4', JobACL: jobAcl('default', 'J', 'web', 'another') },
  { Name: 'p5', JobACL: jobAcl('default', 'J', 'another') },
  { Name: 'p6', JobACL: jobAcl('default', 'another') },
  { Name: 'p7', JobACL: jobAcl('another', 'J') },
  { Name: 'p8', JobACL: jobAcl('default') },
  { Name: 'p9', JobACL: jobAcl('another') },
];

describe('selectWorkloadPolicies (Nomad TestResolveClaims)', () => {
  test('task web of job J', () => {
    const workload: WorkloadScope = { namespace: 'default', jobId: 'J', group: 'web', task: 'web' };
    const selected = selectWorkloadPolicies(POLICIES, workload).map((policy) => policy.Name);
    assert.deepEqual(selected, ['p1', 'p2', 'p3', 'p8']);
  });

  test('other task of the group', () => {
    const workload: WorkloadScope = { namespace: 'default', jobId: 'J', group: 'web', task: 'sidecar' };
    const selected = selectWorkloadPolicies(POLICIES, workload).map((policy) => policy.Name);
    assert.deepEqual(selected, ['p1', 'p2', 'p8']);
  });

  test('other group of the job', () => {
    const workload: WorkloadScope = { namespace: 'default', jobId: 'J', group: 'another', task: 'web' };
    const selected = selectWorkloadPolicies(POLICIES, workload).map((policy) => policy.Name);
    assert.deepEqual(selected, ['p1', 'p5', 'p8']);
  });

  test('other namespace', () => {
    const workload: WorkloadScope = { namespace: 'another', jobId: 'J', group: 'web', task: 'web' };
    const selected = selectWorkloadPolicies(POLICIES, workload).map((policy) => policy.Name);
    assert.deepEqual(selected, ['p7', 'p9']);
  });

  test('no policies compile to deny-all', () => {
    const workload: WorkloadScope = { namespace: 'lonely', jobId: 'J', group: 'web', task: 'web' };
    const selected = selectWorkloadPolicies(POLICIES, workload);
    assert.deepEqual(selected, []);
    const acl = compileAcl(selected.map(() => parsePolicy('', 'lenient')));
    assert.equal(acl.isManagement(), false);
    assert.equal(acl.allowNamespaceOperation('lonely', 'list-jobs'), false);
    assert.equal(acl.allowVariableOperation('lonely', 'nomad/jobs/J', 'read', workload), true);
    assert.equal(acl.allowVariableOperation('lonely', 'other', 'read', workload), false);
  });
});
