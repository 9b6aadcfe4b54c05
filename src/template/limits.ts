/** Caps on one render, so that a bad template or bad data cannot hang or exhaust a client. */

export interface RenderOptions {
  /**
   * Largest output, in UTF-8 bytes. It also caps every string that print, printf and println build,
   * so that a loop cannot grow a variable without bound. Default 1 MiB.
   */
  readonly maxOutputBytes?: number;
  /** Range iterations allowed in one render, summed over every range. Default 100,000. */
  readonly maxRangeIterations?: number;
  /**
   * Deepest nesting of if, with and range blocks and parenthesized pipelines during execution, and
   * of arrays and maps when a value is printed (which also stops cyclic data). Default 100.
   */
  readonly maxDepth?: number;
  /** Aborts the render, including a pending call of a caller-supplied function. */
  readonly signal?: AbortSignal;
}

export interface RenderLimits {
  readonly maxOutputBytes: number;
  readonly maxRangeIterations: number;
  readonly maxDepth: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  maxOutputBytes: 1024 * 1024,
  maxRangeIterations: 100_000,
  maxDepth: 100,
};

function positiveInteger(name: keyof RenderLimits, value: number | undefined): number {
  const resolved = value ?? DEFAULT_RENDER_LIMITS[name];
  if (!Number.isSafeInteger(resolved) || resolved < 1) {
    throw new RangeError(`renderTemplate: ${name} must be a positive integer, got ${String(value)}`);
  }
  return resolved;
}

/** Fills in the defaults; throws RangeError for a limit that is not a positive integer. */
export function resolveLimits(options: RenderOptions): RenderLimits {
  return {
    maxOutputBytes: positiveInteger('maxOutputBytes', options.maxOutputBytes),
    maxRangeIterations: positiveInteger('maxRangeIterations', options.maxRangeIterations),
    maxDepth: positiveInteger('maxDepth', options.maxDepth),
  };
}
