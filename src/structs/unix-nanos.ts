const NS_PER_US = 1000;
const US_PER_MS = 1000;

/**
 * Rounds Unix nanoseconds to whole microseconds. A double near today's Unix time in nanoseconds
 * is exact only to 256 ns, so `ms * 1e6` can be stored up to 128 ns off. Rounding to the
 * microsecond recovers the millisecond, where `Math.floor(nanos / 1e6)` can give the one before.
 */
function unixNanosToMicros(nanos: number): number {
  return Math.round(nanos / NS_PER_US);
}

/** Converts Unix nanoseconds to the whole Unix milliseconds they were made from. */
export function unixNanosToMs(nanos: number): number {
  return Math.floor(unixNanosToMicros(nanos) / US_PER_MS);
}

/**
 * Formats Unix nanoseconds as RFC 3339 in UTC with trailing zeros of the fraction dropped, as Go
 * encodes a `time.Time` and Nomad sends token times. The fraction stops at microseconds because
 * the digits below them are rounding noise of the double, not clock readings.
 */
export function rfc3339Nanos(nanos: number): string {
  const micros = unixNanosToMicros(nanos);
  const ms = Math.floor(micros / US_PER_MS);
  const belowMs = micros - ms * US_PER_MS;
  const iso = new Date(ms).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(belowMs).padStart(3, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}
