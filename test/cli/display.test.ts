import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatAge, formatNanos, shortId } from '../../src/cli/display.js';

describe('status display helpers', () => {
  const nowMs = Date.UTC(2026, 0, 2, 3, 4, 5);
  const agoNanos = (seconds: number): number => (nowMs - seconds * 1000) * 1_000_000;

  test('age keeps the two largest units', () => {
    for (const [seconds, expected] of [
      [0, '0s ago'],
      [42, '42s ago'],
      [60, '1m0s ago'],
      [3_725, '1h2m ago'],
      [90_000, '1d1h ago'],
    ] as const) {
      assert.equal(formatAge(agoNanos(seconds), nowMs), expected, `${seconds} s`);
    }
  });

  test('zero times print as none', () => {
    assert.equal(formatAge(0, nowMs), '<none>');
    assert.equal(formatNanos(0), '<none>');
  });

  test('times print as RFC 3339 in UTC', () => {
    assert.equal(formatNanos(nowMs * 1_000_000), '2026-01-02T03:04:05Z');
  });

  test('short IDs unless verbose', () => {
    const id = '0123456789abcdef';
    assert.equal(shortId(id, false), '01234567');
    assert.equal(shortId(id, true), id);
  });
});
