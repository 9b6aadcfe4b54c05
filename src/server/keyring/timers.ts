/** Timer functions, injected so that tests drive time. The defaults are the global ones. */
export interface KeyringTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The global timers. They are referenced, unlike the timer of `AbortSignal.timeout`, so a process
 * with nothing else to do does not exit in the middle of a wait.
 */
export const GLOBAL_TIMERS: KeyringTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Resolves after `ms` on `timers`, or as soon as `signal` aborts. Never rejects. */
export function pause(timers: KeyringTimers, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const end = () => {
      timers.clearTimeout(handle);
      signal.removeEventListener('abort', end);
      resolve();
    };
    const handle = timers.setTimeout(end, ms);
    signal.addEventListener('abort', end, { once: true });
  });
}
