import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { REDIAL_BASE_MS, REDIAL_CAP_MS, redialDelayMs } from '../../src/rpc/backoff.js';
import { RepeatLimiter } from '../../src/rpc/repeat-limiter.js';

describe('redialDelayMs', () => {
  test('ceiling doubles up to the cap', () => {
    const nearlyOne = () => 0.999999;
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => redialDelayMs(attempt, nearlyOne) + 1);
    assert.deepEqual(ceilings, [50, 100, 200, 400, 800, 1600, 2000, 2000]);
    assert.equal(REDIAL_BASE_MS, 50);
    assert.equal(REDIAL_CAP_MS, 2000);
  });

  test('full jitter reaches zero', () => {
    assert.equal(
      redialDelayMs(5, () => 0),
      0,
    );
  });

  test('many failures stay at the cap', () => {
    const delay = redialDelayMs(10_000, () => 0.5);
    assert.equal(delay, 1000);
  });
});

describe('RepeatLimiter', () => {
  test('warns once per window and counts repeats', () => {
    let now = 0;
    const limiter = new RepeatLimiter(1000, 10, () => now);
    assert.equal(limiter.admit('10.0.0.1 handshake-failed'), 0);
    assert.equal(limiter.admit('10.0.0.1 handshake-failed'), null);
    assert.equal(limiter.admit('10.0.0.1 handshake-failed'), null);
    assert.equal(limiter.admit('10.0.0.2 handshake-failed'), 0);
    now = 1000;
    assert.equal(limiter.admit('10.0.0.1 handshake-failed'), 2);
    assert.equal(limiter.admit('10.0.0.1 handshake-failed'), null);
  });

  test('key count stays bounded', () => {
    const limiter = new RepeatLimiter(1000, 2, () => 0);
    assert.equal(limiter.admit('a'), 0);
    assert.equal(limiter.admit('b'), 0);
    // A third key clears the table, so 'a' is warned about again.
    assert.equal(limiter.admit('c'), 0);
    assert.equal(limiter.admit('a'), 0);
  });
});
