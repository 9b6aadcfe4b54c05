import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJobHcl } from '../../src/jobspec/index.js';

const JOB = (extra: string) => `job "web" {
  ${extra}
  group "g" {
    task "t" {
      driver = "mock"
    }
  }
}`;

test('CLI namespace applies when the jobspec names none', () => {
  assert.equal(parseJobHcl(JOB(''), 'web.hcl', { namespace: 'team-a' }).Namespace, 'team-a');
});

test('jobspec namespace wins over the CLI namespace', () => {
  assert.equal(
    parseJobHcl(JOB('namespace = "team-b"'), 'web.hcl', { namespace: 'team-a' }).Namespace,
    'team-b',
  );
});

test('namespace defaults to default without either', () => {
  assert.equal(parseJobHcl(JOB(''), 'web.hcl').Namespace, 'default');
});
