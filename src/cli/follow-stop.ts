import { parseGoDuration } from '../structs/go-duration.js';

/** Maximum deadline, well below the 2^31 - 1 ms at which Node's timers overflow and fire at once. */
const MAX_DEADLINE_MS = 24 * 3_600_000;

/** Reason a command stopped following progress before the end. */
export type StopReason = 'interrupt' | 'deadline';

/**
 * Stops a command that follows progress, at Ctrl-C (SIGINT) or at a deadline, without killing the
 * process, so that the command can print where things stand and choose its exit code. Call
 * `dispose` when following ends: it removes the SIGINT handler, after which Ctrl-C kills the
 * process as usual, and clears the deadline timer.
 */
export class FollowStop {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout | null;
  #reason: StopReason | null = null;

  /** `deadlineMs` of 0 means no deadline. */
  constructor(deadlineMs: number) {
    process.once('SIGINT', this.#onInterrupt);
    this.#timer = deadlineMs > 0 ? setTimeout(() => this.#stop('deadline'), deadlineMs) : null;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The reason following stopped, or null while it goes on. */
  get reason(): StopReason | null {
    return this.#reason;
  }

  dispose(): void {
    process.removeListener('SIGINT', this.#onInterrupt);
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  readonly #onInterrupt = (): void => this.#stop('interrupt');

  #stop(reason: StopReason): void {
    if (this.#reason !== null) return;
    this.#reason = reason;
    this.#controller.abort(new Error(`stopped following: ${reason}`));
  }
}

/**
 * Reads a `-monitor-timeout` value: a Go duration such as `90s` or `5m`, or `0` for no deadline.
 * Throws an Error naming the flag and the value when it is not one.
 */
export function parseMonitorTimeout(value: string): number {
  const ms = parseGoDuration(value);
  if (ms === null || ms < 0 || ms > MAX_DEADLINE_MS) {
    throw new Error(
      `invalid -monitor-timeout ${JSON.stringify(value)}: expected a duration of at most 24h, such as 90s or 5m, or 0 for none`,
    );
  }
  return ms;
}

/** Formats a deadline for messages: `5m`, `90s`, `1500ms`. */
export function formatDeadline(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
