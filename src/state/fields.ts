import type { FieldErrorFactory } from './errors.js';

// Readers for values that arrive untyped: decoded MessagePack, API input, snapshot sections.
// Each reader either returns a typed value or throws the error that `fail` builds, naming the
// field. Every reader returns a copy except `readFields`, which checks a map's fields in place.

const MAX_SHOWN_CHARS = 64;

/** Renders a value for an error message, shortened so that a huge input cannot flood a log line. */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (value === null || typeof value !== 'object') text = String(value);
  else if (Array.isArray(value)) text = 'an array';
  else if (value instanceof Uint8Array) text = 'binary data';
  else text = isPlainObject(value) ? 'a map' : `a ${value.constructor?.name ?? 'object'}`;
  return text.length > MAX_SHOWN_CHARS ? `${text.slice(0, MAX_SHOWN_CHARS)}...` : text;
}

/** True for `{}` literals and decoded maps; false for arrays, Dates, Buffers and other class instances. */
export function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Checks that `value` is a map that has exactly the fields in `names`, except that those also
 * listed in `optional` may be absent, and returns it typed so. It returns `value` itself, not a
 * copy, because copying dominated the cost of reading large plans: callers read each field once,
 * through a reader that returns a fresh value. An absent optional field then reads as undefined,
 * so optional names must not be properties of Object.prototype. Extra fields are rejected rather
 * than dropped, because a field that this version cannot read would otherwise vanish silently on
 * some replicas and not on others.
 */
export function readFields<Name extends string>(
  value: unknown,
  field: string,
  names: readonly Name[],
  fail: FieldErrorFactory,
  optional: readonly Name[] = [],
): Record<Name, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw fail(field, `must be a map, got ${describeValue(value)}`);
  }
  const record = value as Record<string, unknown>;
  let present = 0;
  for (const name of names) {
    if (Object.hasOwn(record, name)) {
      present++;
    } else if (!optional.includes(name)) {
      // Report an unknown field ahead of a missing one: a misspelt name explains both.
      findUnknownField(record, field, names, fail);
      throw fail(joinField(field, name), 'is missing');
    }
  }
  // With every present key among `names`, the counts match only when no other key exists. The
  // count avoids a lookup per key, which matters for plans of thousands of allocations.
  if (Object.keys(record).length !== present) findUnknownField(record, field, names, fail);
  return record as Record<Name, unknown>;
}

function findUnknownField(
  record: Record<string, unknown>,
  field: string,
  names: readonly string[],
  fail: FieldErrorFactory,
): void {
  for (const key of Object.keys(record)) {
    if (!names.includes(key)) throw fail(joinField(field, key), 'is not a known field');
  }
}

export function joinField(parent: string, child: string | number): string {
  return parent === '' ? String(child) : `${parent}.${child}`;
}

// A lone UTF-16 surrogate cannot be encoded as UTF-8, so MessagePack would store a replacement
// character and the decoded command would differ from the validated one.
const LONE_SURROGATE = /\p{Cs}/u;

export interface StringRules {
  /** Maximum length in UTF-8 bytes, as Go's len() counts it. */
  readonly maxBytes?: number;
  readonly minBytes?: number;
  readonly pattern?: RegExp;
}

export function readString(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  rules: StringRules = {},
): string {
  if (typeof value !== 'string') throw fail(field, `must be a string, got ${describeValue(value)}`);
  if (LONE_SURROGATE.test(value))
    throw fail(field, 'contains a lone UTF-16 surrogate, which UTF-8 cannot encode');
  if (rules.pattern !== undefined && !rules.pattern.test(value)) {
    throw fail(field, `must match ${rules.pattern.source}, got ${describeValue(value)}`);
  }
  if (rules.minBytes !== undefined || rules.maxBytes !== undefined) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (rules.minBytes !== undefined && bytes < rules.minBytes) {
      throw fail(field, `must be at least ${rules.minBytes} bytes long, got ${bytes}`);
    }
    if (rules.maxBytes !== undefined && bytes > rules.maxBytes) {
      throw fail(field, `must be at most ${rules.maxBytes} bytes long, got ${bytes}`);
    }
  }
  return value;
}

/** Reads an integer in [min, max]. A BigInt (a 64-bit MessagePack integer) is rejected, not rounded. */
export function readInteger(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw fail(field, `must be an integer from ${min} to ${max}, got ${describeValue(value)}`);
  }
  // MessagePack stores -0 as the integer 0, so the copy contains 0 to match what replicas decode.
  return value + 0;
}

/**
 * Reads a string-to-string map, or null, into a fresh frozen copy. The key `__proto__` is
 * rejected because msgpackr renames it on decoding, so it would not survive the Raft log.
 */
export function readStringMap(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
): Readonly<Record<string, string>> | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value) || !isPlainObject(value)) {
    throw fail(field, `must be a map of strings or null, got ${describeValue(value)}`);
  }
  const copy: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (key === '__proto__') throw fail(field, 'must not have the key __proto__');
    readString(key, `${field} key`, fail);
    copy[key] = readString(entry, joinField(field, key), fail);
  }
  return Object.freeze(copy);
}

export function readBoolean(value: unknown, field: string, fail: FieldErrorFactory): boolean {
  if (typeof value !== 'boolean') throw fail(field, `must be true or false, got ${describeValue(value)}`);
  return value;
}

/** Reads one of `choices`, compared with ===. */
export function readEnum<Choice extends string>(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  choices: readonly Choice[],
): Choice {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw fail(field, `must be one of ${choices.join(', ')}, got ${describeValue(value)}`);
  }
  return value as Choice;
}

/** First value above Go's int64 range, which Nomad's nanosecond times and durations use. */
const INT64_LIMIT = 2 ** 63;

/**
 * Reads a count of nanoseconds (a Unix time or a duration) from 0 up to Go's int64 maximum.
 * Unix times in nanoseconds exceed 2^53, so they are carried as integer-valued doubles, which are
 * exact to about 256 ns for present-day times. Fractions, NaN and infinities are rejected.
 */
export function readNanoseconds(value: unknown, field: string, fail: FieldErrorFactory): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= INT64_LIMIT) {
    throw fail(
      field,
      `must be a whole number of nanoseconds, at least 0 and below 2^63, got ${describeValue(value)}`,
    );
  }
  return value + 0;
}
