import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { PROTOCOL_VERSION } from '../../src/raft/messages.js';
import { validateMessage } from '../../src/raft/validate-message.js';
import { decodeFrame, encodeFrame } from '../../src/rpc/frames.js';

describe('frames', () => {
  test('raft message survives a round trip', () => {
    const message = {
      v: PROTOCOL_VERSION,
      from: 1,
      to: 2,
      term: 3,
      type: 'append-request',
      prevIndex: 4,
      prevTerm: 2,
      commit: 4,
      entries: [{ kind: 'command', index: 5, term: 3, data: new Uint8Array([1, 2, 3]) }],
    };
    const decoded = decodeFrame(encodeFrame({ kind: 'raft', message }));
    assert.ok(decoded.ok);
    const received = decoded.frame.message;
    assert.equal(validateMessage(received), null);
    assert.deepEqual(received, {
      ...message,
      entries: [{ ...message.entries[0], data: Buffer.from([1, 2, 3]) }],
    });
  });

  test('oversized frame is rejected before decoding', () => {
    const decoded = decodeFrame(new Uint8Array(101), 100);
    assert.equal(decoded.ok, false);
    assert.match((decoded as { reason: string }).reason, /101 bytes is above the limit of 100/);
  });

  test('oversized frame is not encoded', () => {
    assert.throws(
      () => encodeFrame({ kind: 'raft', blob: new Uint8Array(200) }, 100),
      /above the limit of 100/,
    );
  });

  const malformed: [string, Uint8Array, RegExp][] = [
    ['truncated', encodeFrame({ kind: 'raft', x: 'abcdef' }).subarray(0, 5), /malformed frame/],
    ['trailing bytes', Buffer.concat([encodeFrame({ kind: 'raft' }), Buffer.from([1])]), /malformed frame/],
    ['not a map', new Packr({ useRecords: false }).pack([1, 2]), /expected a map/],
    ['no kind', new Packr({ useRecords: false }).pack({ x: 1 }), /kind is missing/],
  ];
  for (const [name, bytes, reason] of malformed) {
    test(`rejects ${name} frame`, () => {
      const decoded = decodeFrame(bytes);
      assert.equal(decoded.ok, false);
      assert.match((decoded as { reason: string }).reason, reason);
    });
  }

  test('random bytes never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        decodeFrame(bytes);
      }),
      { seed: 20261204, numRuns: 5000 },
    );
  });

  test('64-bit integers fail message validation', () => {
    const packed = new Packr({ useRecords: false }).pack({
      kind: 'raft',
      message: { v: 1, from: 1, to: 2, term: 2n ** 60n, type: 'timeout-now' },
    });
    const decoded = decodeFrame(packed);
    assert.ok(decoded.ok);
    assert.match(validateMessage(decoded.frame.message) ?? '', /term/);
  });
});
