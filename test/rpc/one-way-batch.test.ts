import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeFrame, encodeFrame } from '../../src/rpc/frames.js';
import { MAX_BATCH_FRAMES, maxBatchedFrameBytes, OneWayBatch } from '../../src/rpc/one-way-batch.js';

/** Decodes one written batch into the kinds and sequence numbers of its frames. */
function framesOf(bytes: Buffer): number[] {
  const decoded = decodeFrame(bytes);
  assert.ok(decoded.ok);
  assert.equal(decoded.frame.kind, 'one-way-batch');
  return (decoded.frame.frames as Uint8Array[]).map((item) => {
    const inner = decodeFrame(item);
    assert.ok(inner.ok);
    return inner.frame.seq as number;
  });
}

describe('OneWayBatch', () => {
  test('frames added in one turn leave in one write, in order', async () => {
    const writes: Buffer[] = [];
    const batch = new OneWayBatch((bytes) => writes.push(bytes), 1024 * 1024);
    for (let seq = 0; seq < 50; seq++) batch.add(encodeFrame({ kind: 'raft', seq }));
    assert.equal(writes.length, 0, 'nothing leaves before the turn ends');
    assert.ok(batch.pendingBytes > 0);
    await Promise.resolve();
    assert.equal(writes.length, 1);
    assert.deepEqual(
      framesOf(writes[0]!),
      Array.from({ length: 50 }, (_, seq) => seq),
    );
    assert.equal(batch.pendingBytes, 0);
  });

  test('flush sends what waits at once, so a later write cannot overtake it', async () => {
    const writes: Buffer[] = [];
    const batch = new OneWayBatch((bytes) => writes.push(bytes), 1024 * 1024);
    batch.add(encodeFrame({ kind: 'raft', seq: 1 }));
    batch.flush();
    assert.deepEqual(framesOf(writes[0]!), [1]);
    await Promise.resolve();
    assert.equal(writes.length, 1, 'the scheduled flush finds nothing more to send');
  });

  test('a batch never grows past the frame limit', () => {
    const limit = 4096;
    const writes: Buffer[] = [];
    const batch = new OneWayBatch((bytes) => writes.push(bytes), limit);
    const blob = new Uint8Array(1000);
    for (let seq = 0; seq < 10; seq++) batch.add(encodeFrame({ kind: 'raft', seq, blob }));
    batch.flush();
    assert.ok(writes.length >= 3, `expected several writes, got ${writes.length}`);
    for (const bytes of writes) assert.ok(bytes.length <= limit, `a write of ${bytes.length} bytes`);
    assert.deepEqual(
      writes.flatMap(framesOf),
      Array.from({ length: 10 }, (_, seq) => seq),
    );
    // The largest frame allowed alone still fits in a batch.
    const largest = encodeFrame({ kind: 'raft', seq: 99, blob: new Uint8Array(limit) }).subarray(
      0,
      maxBatchedFrameBytes(limit),
    );
    assert.doesNotThrow(() => {
      batch.add(largest);
      batch.flush();
    });
  });

  test('a batch holds at most MAX_BATCH_FRAMES frames', async () => {
    const writes: Buffer[] = [];
    const batch = new OneWayBatch((bytes) => writes.push(bytes), 8 * 1024 * 1024);
    const total = MAX_BATCH_FRAMES + 10;
    for (let seq = 0; seq < total; seq++) batch.add(encodeFrame({ kind: 'raft', seq }));
    await Promise.resolve();
    assert.deepEqual(
      writes.map((bytes) => framesOf(bytes).length),
      [MAX_BATCH_FRAMES, 10],
    );
  });

  test('clear drops what waits', async () => {
    const writes: Buffer[] = [];
    const batch = new OneWayBatch((bytes) => writes.push(bytes), 1024 * 1024);
    batch.add(encodeFrame({ kind: 'raft', seq: 1 }));
    batch.clear();
    await Promise.resolve();
    assert.deepEqual(writes, []);
  });
});
