import { RequestError } from '../server/request-error.js';
import { parseGoDuration } from '../structs/go-duration.js';

/** Maximum wait of a blocking query, also used when `wait` is absent (Nomad uses 300 s for both). */
export const MAX_BLOCKING_WAIT_MS = 300_000;
/** Nomad adds a random delay of up to wait/16 so that many watchers do not return together. */
export const BLOCKING_JITTER_FRACTION = 16;

/** The spellings that Go's strconv.ParseBool, and so Nomad, accept. */
export const TRUE_WORDS = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
export const FALSE_WORDS = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

export interface ReadOptions {
  /** Serve from this server's state without asking the leader. */
  readonly stale: boolean;
  /** Block until the result's index exceeds this; 0 means do not block. */
  readonly minIndex: number;
  /** How long to block, in milliseconds, before jitter. */
  readonly waitMs: number;
}

/**
 * Parses Nomad's read parameters `stale`, `index` and `wait`. Throws `RequestError` 400 with
 * Nomad's messages (`Invalid index`, `Invalid wait time`) followed by the value that failed.
 */
export function parseReadOptions(query: URLSearchParams): ReadOptions {
  return { stale: parseStale(query), minIndex: parseIndex(query), waitMs: parseWait(query) };
}

/** Reads `?stale` alone. Throws `RequestError` 400 for a value that is not a boolean. */
export function parseStale(query: URLSearchParams): boolean {
  const value = query.get('stale');
  if (value === null) return false;
  // A bare `?stale` arrives as the empty string and requests a stale read, as in Nomad.
  if (value === '' || TRUE_WORDS.has(value)) return true;
  if (FALSE_WORDS.has(value)) return false;
  throw new RequestError(400, `Invalid stale value ${JSON.stringify(value)}: expected true or false`);
}

function parseIndex(query: URLSearchParams): number {
  const value = query.get('index');
  if (value === null) return 0;
  const index = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(index)) {
    throw new RequestError(400, `Invalid index: ${JSON.stringify(value)} is not a non-negative integer`);
  }
  return index;
}

function parseWait(query: URLSearchParams): number {
  const value = query.get('wait');
  if (value === null) return MAX_BLOCKING_WAIT_MS;
  const waitMs = parseGoDuration(value);
  if (waitMs === null) {
    throw new RequestError(
      400,
      `Invalid wait time: ${JSON.stringify(value)} (use a duration such as 30s or 5m)`,
    );
  }
  // Nomad treats a zero or negative wait as the default and caps longer ones.
  if (waitMs <= 0) return MAX_BLOCKING_WAIT_MS;
  return Math.min(waitMs, MAX_BLOCKING_WAIT_MS);
}
