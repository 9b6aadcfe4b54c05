import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesDatacenter } from '../../src/scheduler/datacenter-glob.js';

const cases: Array<[pattern: string, datacenter: string, matches: boolean]> = [
  ['dc1', 'dc1', true],
  ['dc1', 'dc10', false],
  ['*', 'dc1', true],
  ['*', '', true],
  ['dc*', 'dc', true],
  ['dc*', 'dc-east', true],
  ['dc*', 'edc', false],
  ['*-east', 'us-east', true],
  ['*-east', 'us-east-1', false],
  ['us-*-1', 'us-east-1', true],
  ['us-*-1', 'us-1', false],
  ['a*b*c', 'abc', true],
  ['a*b*c', 'axxbyyc', true],
  ['a*b*c', 'acb', false],
  ['a*bc*bc', 'abcbc', true],
  ['a*a', 'a', false],
  ['**', 'anything', true],
];

test('datacenter glob matching table', () => {
  for (const [pattern, datacenter, matches] of cases) {
    assert.equal(matchesDatacenter(pattern, datacenter), matches, `${pattern} vs ${datacenter}`);
  }
});
