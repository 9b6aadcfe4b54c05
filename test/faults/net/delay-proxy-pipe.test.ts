import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { DelayPipe, HIGH_WATER_BYTES } from '../../../cluster/faults/net/delay-proxy-pipe.js';
import { waitFor } from '../../../cluster/wait.js';
import { Prng } from '../../sim/prng.js';

const CHUNK_BYTES = 64 * 1024;
const TOTAL_BYTES = 4 * HIGH_WATER_BYTES;

/** A destination that accepts nothing until open() is called, then everything at once. */
class GatedWritable extends Writable {
  readonly received: Buffer[] = [];
  #pending: (() => void)[] = [];
  #open = false;

  constructor() {
    super({ highWaterMark: 16 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.received.push(chunk);
    if (this.#open) callback();
    else this.#pending.push(callback);
  }

  open(): void {
    this.#open = true;
    for (const callback of this.#pending.splice(0)) callback();
  }
}

function pattern(bytes: number): Buffer {
  const random = new Prng(3);
  const data = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) data[i] = random.int(256);
  return data;
}

test('pipe pauses a source at the high-water mark', async () => {
  const source = new PassThrough();
  const destination = new GatedWritable();
  const pipe = new DelayPipe(source, destination, () => 0);
  const data = pattern(TOTAL_BYTES);
  for (let offset = 0; offset < data.length; offset += CHUNK_BYTES)
    source.write(data.subarray(offset, offset + CHUNK_BYTES));

  await waitFor('the pipe to pause its source', { timeoutMs: 5_000 }, async () =>
    source.isPaused() ? { done: true, value: null } : { done: false, status: `${pipe.heldBytes} bytes held` },
  );
  const queued = pipe.heldBytes + destination.writableLength;
  assert.ok(queued <= HIGH_WATER_BYTES + CHUNK_BYTES, `${queued} bytes queued past the high-water mark`);

  destination.open();
  await waitFor('every byte to arrive', { timeoutMs: 5_000 }, async () => {
    const received = destination.received.reduce((sum, chunk) => sum + chunk.length, 0);
    return received === TOTAL_BYTES
      ? { done: true, value: null }
      : { done: false, status: `${received} bytes` };
  });
  assert.ok(Buffer.concat(destination.received).equals(data), 'bytes arrived reordered or changed');
  assert.equal(source.isPaused(), false);
});

test('pipe keeps order when the delay drops', async () => {
  const source = new PassThrough();
  const destination = new GatedWritable();
  destination.open();
  let delayMs = 200;
  new DelayPipe(source, destination, () => delayMs);
  source.write('first');
  delayMs = 0;
  source.write('second');
  source.end();
  await new Promise<void>((resolve) => destination.once('finish', resolve));
  assert.equal(Buffer.concat(destination.received).toString(), 'firstsecond');
});
