import type { FieldErrorFactory } from './errors.js';
import { describeValue, isPlainObject, joinField, readString, type StringRules } from './fields.js';

// Readers for lists, maps and free-form values. Like the scalar readers in fields.ts, each returns
// a frozen copy or throws the error that `fail` builds, naming the field.

/** Reads an array of at most `maxItems` items, each checked by `readItem`. */
export function readArray<Item>(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  maxItems: number,
  readItem: (item: unknown, field: string) => Item,
): readonly Item[] {
  if (!Array.isArray(value)) throw fail(field, `must be an array, got ${describeValue(value)}`);
  if (value.length > maxItems) throw fail(field, `must have at most ${maxItems} items, got ${value.length}`);
  const copy: Item[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) copy[i] = readItem(value[i], joinField(field, i));
  return Object.freeze(copy);
}

/** Reads an array of strings that obey `rules`. */
export function readStringArray(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  maxItems: number,
  rules: StringRules,
): readonly string[] {
  return readArray(value, field, fail, maxItems, (item, itemField) =>
    readString(item, itemField, fail, rules),
  );
}

/**
 * Reads a map with string keys that obey `keyRules`, each value checked by `readEntry`. The key
 * `__proto__` is rejected because msgpackr renames it on decoding, so it would not survive the
 * Raft log.
 */
export function readRecord<Entry>(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  maxEntries: number,
  keyRules: StringRules,
  readEntry: (entry: unknown, field: string) => Entry,
): Readonly<Record<string, Entry>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw fail(field, `must be a map, got ${describeValue(value)}`);
  }
  const keys = Object.keys(value);
  if (keys.length > maxEntries)
    throw fail(field, `must have at most ${maxEntries} entries, got ${keys.length}`);
  const copy: Record<string, Entry> = {};
  for (const key of keys) {
    if (key === '__proto__') throw fail(field, 'must not have the key __proto__');
    readString(key, `${field} key`, fail, keyRules);
    copy[key] = readEntry((value as Record<string, unknown>)[key], joinField(field, key));
  }
  return Object.freeze(copy);
}

/** Bounds of a free-form value such as a task's driver `Config`. */
export interface PlainValueRules {
  /** Maximum nesting of arrays and maps; the top-level map is depth 1. */
  readonly maxDepth: number;
  /** Maximum items of any one array or map. */
  readonly maxEntries: number;
  readonly maxKeyBytes: number;
  readonly maxStringBytes: number;
}

/**
 * Reads a JSON-like map: strings, finite numbers, booleans, null, arrays and maps. Anything else
 * (binary data, BigInts, NaN, dates) is rejected, because the value must come back unchanged from
 * MessagePack on every replica and read the same in the HTTP API's JSON.
 */
export function readPlainMap(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  rules: PlainValueRules,
): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw fail(field, `must be a map, got ${describeValue(value)}`);
  }
  return readPlainValue(value, field, fail, rules, 1) as Readonly<Record<string, unknown>>;
}

function readPlainValue(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  rules: PlainValueRules,
  depth: number,
): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw fail(field, `must be a finite number, got ${describeValue(value)}`);
    return value + 0; // MessagePack stores -0 as the integer 0
  }
  if (typeof value === 'string') return readString(value, field, fail, { maxBytes: rules.maxStringBytes });
  if (typeof value !== 'object') throw fail(field, `must be JSON-like data, got ${describeValue(value)}`);
  if (depth > rules.maxDepth) throw fail(field, `is nested deeper than ${rules.maxDepth} levels`);

  if (Array.isArray(value)) {
    return readArray(value, field, fail, rules.maxEntries, (item, itemField) =>
      readPlainValue(item, itemField, fail, rules, depth + 1),
    );
  }
  if (!isPlainObject(value)) throw fail(field, `must be JSON-like data, got ${describeValue(value)}`);
  return readRecord(
    value,
    field,
    fail,
    rules.maxEntries,
    { maxBytes: rules.maxKeyBytes },
    (entry, entryField) => readPlainValue(entry, entryField, fail, rules, depth + 1),
  );
}
