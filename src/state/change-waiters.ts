interface Waiter {
  readonly afterIndex: number;
  readonly resolve: () => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

/**
 * Blocking-query waits on one table. Every wait ends in exactly one way, a change or an abort, and
 * removes both its entry here and its abort listener, so a long-lived signal shared by many
 * queries gathers no listeners.
 */
export class ChangeWaiters {
  readonly #waiting = new Set<Waiter>();

  /** Number of waits still pending. */
  get size(): number {
    return this.#waiting.size;
  }

  /** Resolves once `notify` reports an index above `afterIndex`, or when `signal` aborts. Never rejects. */
  wait(afterIndex: number, currentIndex: number, signal: AbortSignal): Promise<void> {
    if (currentIndex > afterIndex || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        afterIndex,
        resolve,
        signal,
        onAbort: () => {
          this.#waiting.delete(waiter);
          resolve();
        },
      };
      this.#waiting.add(waiter);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  /** Wakes every wait whose `afterIndex` is below the table's new index. */
  notify(index: number): void {
    for (const waiter of this.#waiting) {
      if (waiter.afterIndex >= index) continue;
      this.#waiting.delete(waiter);
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
  }
}
