/**
 * Seeded pseudo-random numbers for the simulation: sfc32, with its state filled by splitmix32.
 * Every random choice of a simulated run comes from a `Prng` derived from the seed, so a seed
 * replays the same run. Not for cryptography.
 */

const UINT32 = 0x1_0000_0000;

/** Returns the splitmix32 output for `state`. It spreads a seed and a stream label over the 128-bit sfc32 state. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /**
   * `seed` is any safe non-negative integer, and `stream` picks one of 2^32 independent sequences
   * for the same seed.
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`invalid seed ${seed}: expected a safe non-negative integer`);
    const low = seed >>> 0;
    const high = Math.floor(seed / UINT32) >>> 0;
    let state = splitmix32(low ^ splitmix32(high ^ splitmix32(stream >>> 0)));
    state = splitmix32(state);
    this.#a = state;
    state = splitmix32(state);
    this.#b = state;
    state = splitmix32(state);
    this.#c = state;
    state = splitmix32(state);
    this.#d = state | 1;
    // sfc32's first outputs still reflect the fill pattern, so discard them.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  float(): number {
    return this.nextUint32() / UINT32;
  }

  /** Uniform integer in [0, bound). The bias for bounds far below 2^32 is negligible here. */
  int(bound: number): number {
    if (!Number.isInteger(bound) || bound <= 0)
      throw new RangeError(`invalid bound ${bound}: expected a positive integer`);
    return Math.floor(this.float() * bound);
  }

  /** Uniform integer in [min, max], both included. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[this.int(items.length)]!;
  }

  /** A shuffled copy of `items` (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  /** An independent generator for one component (a node, the network...), drawn from this one. */
  fork(): Prng {
    return new Prng(this.nextUint32() * 0x20_0000 + (this.nextUint32() >>> 11), this.nextUint32());
  }
}
