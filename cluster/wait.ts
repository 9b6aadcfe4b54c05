import { setTimeout as delay } from 'node:timers/promises';

/** Result of one poll: the awaited value, or a short status that the timeout error reports. */
export type Poll<T> =
  | { readonly done: true; readonly value: T }
  | { readonly done: false; readonly status: string };

/** Raised when a condition does not hold before its deadline; `lastStatus` is what the last poll saw. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  readonly code = 'TIMEOUT';
  readonly lastStatus: string;

  constructor(description: string, timeoutMs: number, lastStatus: string) {
    super(`timed out after ${timeoutMs} ms waiting for ${description}; last poll: ${lastStatus}`);
    this.lastStatus = lastStatus;
  }
}

export interface WaitOptions {
  /** Deadline in milliseconds from the call. */
  readonly timeoutMs: number;
  /** Pause between polls in milliseconds. Default 50. */
  readonly intervalMs?: number;
  /** Ends the wait at once with the signal's reason, as when the launcher is stopping. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Polls `poll` until it reports done, and returns its value. A poll that throws counts as not done
 * and its message becomes the status. Raises WaitTimeoutError once `timeoutMs` has passed, and
 * the signal's reason once `options.signal` aborts.
 */
export async function waitFor<T>(
  description: string,
  options: WaitOptions,
  poll: () => Promise<Poll<T>>,
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 50;
  let lastStatus = 'no poll finished';
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const result = await poll();
      if (result.done) return result.value;
      lastStatus = result.status;
    } catch (err) {
      lastStatus = `error: ${(err as Error).message}`;
    }
    const left = deadline - performance.now();
    if (left <= 0) throw new WaitTimeoutError(description, options.timeoutMs, lastStatus);
    await delay(Math.min(intervalMs, left), undefined, { signal: options.signal });
  }
}

export function done<T>(value: T): Poll<T> {
  return { done: true, value };
}

export function pending<T>(status: string): Poll<T> {
  return { done: false, status };
}
