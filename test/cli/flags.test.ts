import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeFlags } from '../../src/cli/flags.js';

test('single-dash long flags get two dashes', () => {
  assert.deepEqual(
    normalizeFlags(['operator', 'raft', 'list-peers', '-address=http://127.0.0.1:1', '-stale']),
    ['operator', 'raft', 'list-peers', '--address=http://127.0.0.1:1', '--stale'],
  );
  assert.deepEqual(normalizeFlags(['-address', 'http://x:1', '-peer-id', '42', '-json']), [
    '--address',
    'http://x:1',
    '--peer-id',
    '42',
    '--json',
  ]);
});

test('short flags and dashes stay', () => {
  assert.deepEqual(normalizeFlags(['-v']), ['-v']);
  assert.deepEqual(normalizeFlags(['-h']), ['-h']);
  assert.deepEqual(normalizeFlags(['--json', '--address=x']), ['--json', '--address=x']);
  assert.deepEqual(normalizeFlags(['-']), ['-']);
  assert.deepEqual(normalizeFlags(['-5', '-.5', '-1s']), ['-5', '-.5', '-1s']);
});

test('short flag with = splits', () => {
  assert.deepEqual(normalizeFlags(['-t={{.ID}}']), ['-t', '{{.ID}}']);
  assert.deepEqual(normalizeFlags(['-t=']), ['-t', '']);
  assert.deepEqual(normalizeFlags(['-t', '{{.ID}}']), ['-t', '{{.ID}}']);
});

test('arguments after -- stay', () => {
  assert.deepEqual(normalizeFlags(['namespace', 'apply', '-description=d', '--', '-odd-name']), [
    'namespace',
    'apply',
    '--description=d',
    '--',
    '-odd-name',
  ]);
});

test('positional words stay', () => {
  assert.deepEqual(normalizeFlags(['namespace', 'status', 'team-a']), ['namespace', 'status', 'team-a']);
});
