import { unixNanosToMs } from '../structs/unix-nanos.js';

/** Length of the IDs that status commands print unless `-verbose` is set, as in Nomad. */
export const SHORT_ID_LENGTH = 8;

export function shortId(id: string, verbose: boolean): string {
  return verbose ? id : id.slice(0, SHORT_ID_LENGTH);
}

/** Formats a Unix time in nanoseconds as RFC 3339 in UTC, or `<none>` for 0. */
export function formatNanos(nanos: number): string {
  if (nanos <= 0) return '<none>';
  return new Date(unixNanosToMs(nanos)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Formats the time since `nanos` the way Nomad's status tables do: `1h5m ago`, `42s ago`. */
export function formatAge(nanos: number, nowMs: number = Date.now()): string {
  if (nanos <= 0) return '<none>';
  let seconds = Math.max(0, Math.round((nowMs - nanos / 1_000_000) / 1000));
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(seconds / size);
    seconds -= count * size;
    // The two largest units carry the information; Nomad drops the rest too.
    if (count > 0 || (parts.length > 0 && parts.length < 2)) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  return `${parts.length === 0 ? '0s' : parts.join('')} ago`;
}

/** Orders strings by UTF-16 code units, the same on every machine (unlike localeCompare). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Replaces an empty value with `<none>`, as Nomad's status commands print it. */
export function orNone(value: string): string {
  return value === '' ? '<none>' : value;
}
