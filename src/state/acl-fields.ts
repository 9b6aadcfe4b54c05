import type { FieldErrorFactory } from './errors.js';
import { describeValue, joinField, readString } from './fields.js';

// Readers shared by the ACL policy and token rows.

/** Nomad's rule for ACL policy names. */
export const ACL_POLICY_NAME_PATTERN = /^[a-zA-Z0-9-]{1,128}$/;

// Canonical UUID text in either case, because an operator may choose the bootstrap secret and may
// write its hex digits in upper case. IDs that Signet generates are lower case.
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function readPolicyName(value: unknown, field: string, fail: FieldErrorFactory): string {
  return readString(value, field, fail, { pattern: ACL_POLICY_NAME_PATTERN });
}

/** Reads a token's AccessorID, the public UUID that names the token. */
export function readAccessorId(value: unknown, field: string, fail: FieldErrorFactory): string {
  return readString(value, field, fail, { pattern: UUID });
}

/**
 * Reads a token's SecretID, a UUID. The errors give only the kind and length of the value, never the
 * value, because it is a bearer credential and these errors reach responses and logs.
 */
export function readSecretId(value: unknown, field: string, fail: FieldErrorFactory): string {
  if (typeof value !== 'string') throw fail(field, `must be a UUID string, got ${kindOf(value)}`);
  if (!UUID.test(value)) {
    throw fail(field, `must be a UUID (36 hex digits and dashes), got a ${value.length}-character string`);
  }
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a map';
  return `a ${typeof value}`;
}

/** Throws naming the first item of `items` whose key an earlier item has, so one command never names a row twice. */
export function checkNoRepeats<Item>(
  items: readonly Item[],
  field: string,
  fail: FieldErrorFactory,
  keyOf: (item: Item) => string,
  keyName: string,
): void {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const key = keyOf(items[i]!);
    if (seen.has(key)) throw fail(joinField(field, i), `repeats the ${keyName} ${describeValue(key)}`);
    seen.add(key);
  }
}

/** Throws when a list that a command acts on is empty, because such a command would change nothing. */
export function checkNotEmpty(items: readonly unknown[], field: string, fail: FieldErrorFactory): void {
  if (items.length === 0) throw fail(field, 'must have at least one item');
}
