import { encodeFrame } from './frames.js';

/** Bytes of a `one-way-batch` envelope around its frames: the map, its keys and an array header. */
const ENVELOPE_BYTES = 64;
/** Bytes that MessagePack adds in front of each binary frame (bin 32 header). */
const ITEM_BYTES = 5;

/**
 * Most frames in one batch. A receiver decodes a whole batch before it delivers any frame, so the
 * bound keeps one batch of tiny frames from holding its event loop (about 1.5 s for the 760,000
 * empty frames that fit in 8 MiB). Raft sends far fewer to one peer in one turn.
 */
export const MAX_BATCH_FRAMES = 1024;

/** Largest application frame that fits alone in a batch under `maxFrameBytes`. */
export function maxBatchedFrameBytes(maxFrameBytes: number): number {
  return maxFrameBytes - ENVELOPE_BYTES - ITEM_BYTES;
}

/**
 * Collects the one-way frames sent on one connection during one turn of the event loop and
 * sends them as one websocket message. Raft sends appends, heartbeats and responses to the same
 * peer in bursts, so one message per burst costs one socket write instead of one per frame.
 * Each frame is encoded when it is added, so an oversized frame still fails in its sender's call,
 * and the batch never grows past the frame limit: a frame that would not fit sends the batch first.
 */
export class OneWayBatch {
  readonly #write: (bytes: Buffer) => void;
  readonly #maxFrameBytes: number;
  #frames: Buffer[] = [];
  #bytes = ENVELOPE_BYTES;
  #scheduled = false;

  constructor(write: (bytes: Buffer) => void, maxFrameBytes: number) {
    this.#write = write;
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes waiting to be sent, for the sender's backpressure check. */
  get pendingBytes(): number {
    return this.#frames.length === 0 ? 0 : this.#bytes;
  }

  /**
   * Adds an encoded application frame of at most `maxBatchedFrameBytes`. It leaves at the end of
   * this turn or with the next flush.
   */
  add(frame: Buffer): void {
    if (
      this.#bytes + frame.length + ITEM_BYTES > this.#maxFrameBytes ||
      this.#frames.length >= MAX_BATCH_FRAMES
    ) {
      this.flush();
    }
    this.#frames.push(frame);
    this.#bytes += frame.length + ITEM_BYTES;
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** Sends what is waiting now, so a frame sent another way cannot overtake it. */
  flush(): void {
    if (this.#frames.length === 0) return;
    const frames = this.#frames;
    this.#frames = [];
    this.#bytes = ENVELOPE_BYTES;
    this.#write(encodeFrame({ kind: 'one-way-batch', frames }, this.#maxFrameBytes));
  }

  /** Drops what is waiting, for a connection that closed (one-way frames may be lost). */
  clear(): void {
    this.#frames = [];
    this.#bytes = ENVELOPE_BYTES;
  }
}
