import type { Readable, Writable } from 'node:stream';

/** Bytes queued in one direction (held back plus not yet flushed) above which the source is paused. */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** The source resumes once the bytes queued fall to this. */
const LOW_WATER_BYTES = 256 * 1024;

/** One chunk held back, and when it may be written on. An `end` entry ends the destination. */
interface HeldChunk {
  readonly releaseAtMs: number;
  readonly data: Buffer | 'end';
}

/**
 * Copies one direction of a proxied connection, from `source` to `destination`, holding each chunk
 * back for the delay that `delayFor()` returns when the chunk arrives. The direction stays FIFO: a
 * chunk is released at max(arrival + delay, release of the chunk before it), so a lowered delay
 * never lets a chunk overtake an earlier one. The source is paused while more than HIGH_WATER_BYTES
 * are queued, counting what the destination has not flushed yet, so a slow or delayed peer pushes
 * back on the sender as TCP would. The source's end is passed on after the last held chunk.
 */
export class DelayPipe {
  readonly #source: Readable;
  readonly #destination: Writable;
  readonly #delayFor: () => number;
  readonly #held: HeldChunk[] = [];
  #heldBytes = 0;
  #lastReleaseMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #paused = false;

  constructor(source: Readable, destination: Writable, delayFor: () => number) {
    this.#source = source;
    this.#destination = destination;
    this.#delayFor = delayFor;
    source.on('data', (data: Buffer) => this.#hold(data));
    source.once('end', () => this.#hold('end'));
    destination.on('drain', () => this.#resumeIfBelowLowWater());
    // A closed destination makes every held chunk moot. A closed source does not: what it sent
    // before its end is still held and due.
    destination.once('close', () => this.#clearTimer());
  }

  /** Bytes held back now, not counting what the destination has not flushed. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  #hold(data: Buffer | 'end'): void {
    const nowMs = performance.now();
    const releaseAtMs = Math.max(nowMs + this.#delayFor(), this.#lastReleaseMs);
    this.#lastReleaseMs = releaseAtMs;
    this.#held.push({ releaseAtMs, data });
    if (data !== 'end') this.#heldBytes += data.length;
    if (this.#backlog() > HIGH_WATER_BYTES && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    }
    this.#release();
  }

  /** Writes every chunk whose time has come, then waits for the next one. */
  #release(): void {
    this.#clearTimer();
    const nowMs = performance.now();
    while (this.#held.length > 0 && this.#held[0]!.releaseAtMs <= nowMs) {
      const chunk = this.#held.shift()!;
      if (this.#destination.destroyed) return;
      if (chunk.data === 'end') {
        this.#destination.end();
        continue;
      }
      this.#heldBytes -= chunk.data.length;
      this.#destination.write(chunk.data);
    }
    this.#resumeIfBelowLowWater();
    const next = this.#held[0];
    if (next === undefined) return;
    // Timers can fire a little before the requested time by performance.now(), so #release checks
    // the time again and reschedules rather than release a chunk early.
    this.#timer = setTimeout(() => this.#release(), Math.max(1, Math.ceil(next.releaseAtMs - nowMs)));
  }

  #resumeIfBelowLowWater(): void {
    if (!this.#paused || this.#backlog() > LOW_WATER_BYTES) return;
    this.#paused = false;
    this.#source.resume();
  }

  #backlog(): number {
    return this.#heldBytes + this.#destination.writableLength;
  }

  #clearTimer(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }
}
