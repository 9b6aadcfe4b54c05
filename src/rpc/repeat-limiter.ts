/**
 * Decides which of a repeated warning's occurrences reach the log at warn level: the first for a
 * key, then at most one per window. A server with the wrong cluster key redials every two seconds
 * or so, and each attempt would otherwise log the same warning on both sides.
 */
export class RepeatLimiter {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, { warnedAt: number; suppressed: number }>();

  constructor(windowMs = 60_000, maxKeys = 1024, now: () => number = Date.now) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
    this.#now = now;
  }

  /**
   * Records one occurrence of `key`. Returns how many occurrences were suppressed since the last
   * warning when this one should be logged at warn, or null when it should be logged at debug.
   */
  admit(key: string): number | null {
    const now = this.#now();
    const seen = this.#seen.get(key);
    if (seen !== undefined && now - seen.warnedAt < this.#windowMs) {
      seen.suppressed++;
      return null;
    }
    // Forgetting every key at once is crude, but it bounds the memory that a stream of distinct
    // remote addresses can take, and costs at most one extra warning per key.
    if (seen === undefined && this.#seen.size >= this.#maxKeys) this.#seen.clear();
    const suppressed = seen?.suppressed ?? 0;
    this.#seen.set(key, { warnedAt: now, suppressed: 0 });
    return suppressed;
  }
}
