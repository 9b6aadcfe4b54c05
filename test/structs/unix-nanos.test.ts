import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rfc3339Nanos, unixNanosToMs } from '../../src/structs/unix-nanos.js';

describe('Unix nanosecond times', () => {
  // 04:19:12.410 is stored as 1796444352409999872 ns, 128 ns below the millisecond.
  const createdMs = Date.parse('2026-12-05T04:19:12.410Z');

  test('millisecond-exact time keeps its millisecond', () => {
    assert.equal(unixNanosToMs(createdMs * 1_000_000), createdMs);
    assert.equal(rfc3339Nanos(createdMs * 1_000_000), '2026-12-05T04:19:12.41Z');
  });

  test('every millisecond of a minute round-trips', () => {
    const minuteMs = Date.parse('2026-12-05T04:19:00Z');
    for (let ms = minuteMs; ms < minuteMs + 60_000; ms++) {
      const nanos = ms * 1_000_000;
      assert.equal(unixNanosToMs(nanos), ms, `ms ${ms}`);
      assert.equal(Date.parse(rfc3339Nanos(nanos)), ms, `ms ${ms}`);
    }
  });

  test('whole seconds have no fraction', () => {
    assert.equal(rfc3339Nanos(Date.parse('2026-12-05T04:20:11Z') * 1_000_000), '2026-12-05T04:20:11Z');
  });

  test('microseconds are kept', () => {
    const nanos = Date.parse('2026-12-05T04:19:12.093Z') * 1_000_000 + 250_000;
    assert.equal(rfc3339Nanos(nanos), '2026-12-05T04:19:12.09325Z');
  });
});
