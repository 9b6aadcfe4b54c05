/**
 * The mapping of JavaScript values to Go values during execution.
 *
 * - MISSING is Go's invalid reflect.Value: a key absent from a map, nil data, or a nil that a
 *   pipeline produced. Fields of MISSING are MISSING, and it prints as `<no value>`.
 * - null (and undefined) is a nil interface{}: a null map value, array element or function result.
 *   Reading a field of it fails, as in Go.
 * - A safe integer (Number.isSafeInteger) is an int; any other number, and a GoFloat, is a float64.
 * - A string is a string and a boolean a bool.
 * - An array is a []interface{}; a plain object (prototype Object.prototype or null) is a
 *   map[string]interface{} whose entries are its own enumerable properties, undefined ones excluded.
 * - Anything else (functions, bigints, symbols, class instances such as Map or Date) is unsupported
 *   and fails the render where a template uses it.
 */
import { EvaluationFailure } from './errors.js';
import { GoFloat } from './literals.js';

export const MISSING: unique symbol = Symbol('missing value');

export type GoKind =
  | 'invalid'
  | 'nil'
  | 'bool'
  | 'int'
  | 'float64'
  | 'string'
  | 'slice'
  | 'map'
  | 'unsupported';

/** A map as the engine reads it: a plain object. */
export type GoMap = Readonly<Record<string, unknown>>;

export function isPlainObject(value: unknown): value is GoMap {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

export function kindOf(value: unknown): GoKind {
  if (value === MISSING) return 'invalid';
  if (value === null || value === undefined) return 'nil';
  switch (typeof value) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'number':
      return Number.isSafeInteger(value) ? 'int' : 'float64';
  }
  if (value instanceof GoFloat) return 'float64';
  if (Array.isArray(value)) return 'slice';
  if (isPlainObject(value)) return 'map';
  return 'unsupported';
}

/** Returns the numeric value of an int or float64. */
export function numberOf(value: unknown): number {
  return value instanceof GoFloat ? value.value : (value as number);
}

function describeUnsupported(value: unknown): string {
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}

/** Returns the Go type name used in messages and in `%!verb(type=value)` output. */
export function typeName(value: unknown): string {
  switch (kindOf(value)) {
    case 'invalid':
    case 'nil':
      return '<nil>';
    case 'bool':
      return 'bool';
    case 'int':
      return 'int';
    case 'float64':
      return 'float64';
    case 'string':
      return 'string';
    case 'slice':
      return '[]interface {}';
    case 'map':
      return 'map[string]interface {}';
    case 'unsupported':
      return describeUnsupported(value);
  }
}

export function unsupportedValue(value: unknown): EvaluationFailure {
  return new EvaluationFailure(
    'UNSUPPORTED',
    `values of JavaScript type ${describeUnsupported(value)} are not supported`,
  );
}

/** Code point order, which is the byte order of UTF-8 that Go compares and sorts strings by. */
export function compareStrings(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a code point above U+FFFF) sorts after every other UTF-16 unit.
    const xHigh = x >= 0xd800 && x <= 0xdfff;
    const yHigh = y >= 0xd800 && y <= 0xdfff;
    if (xHigh !== yHigh) return xHigh ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Returns the keys of a map in Go's order (sorted), leaving out properties whose value is undefined. */
export function mapKeys(map: GoMap): string[] {
  return Object.keys(map)
    .filter((key) => map[key] !== undefined)
    .sort(compareStrings);
}

/** Looks up a key: MISSING when the key is absent or its value is undefined. */
export function mapGet(map: GoMap, key: string): unknown {
  if (!Object.hasOwn(map, key)) return MISSING;
  const value = map[key];
  return value === undefined ? MISSING : value;
}

/** Length in Go terms: UTF-8 bytes of a string, elements of a slice, entries of a map. */
export function lengthOf(value: unknown): number | null {
  switch (kindOf(value)) {
    case 'string':
      return Buffer.byteLength(value as string, 'utf8');
    case 'slice':
      return (value as readonly unknown[]).length;
    case 'map': {
      const map = value as GoMap;
      return Object.keys(map).filter((key) => map[key] !== undefined).length;
    }
    default:
      return null;
  }
}

/** Go's truth: false, 0, nil and empty strings, slices and maps are false. Throws for unsupported values. */
export function isTrue(value: unknown): boolean {
  switch (kindOf(value)) {
    case 'invalid':
    case 'nil':
      return false;
    case 'bool':
      return value as boolean;
    case 'int':
    case 'float64':
      // NaN is true, since NaN != 0.
      return numberOf(value) !== 0;
    case 'string':
    case 'slice':
    case 'map':
      return lengthOf(value)! > 0;
    case 'unsupported':
      throw unsupportedValue(value);
  }
}

/** Go's indirectInterface: a nil interface becomes MISSING, as builtins see their arguments. */
export function concrete(value: unknown): unknown {
  return value === null || value === undefined ? MISSING : value;
}

/** The value a caller-supplied function receives: null for nil and missing, a number for a float64. */
export function toCallerValue(value: unknown): unknown {
  if (value === MISSING || value === undefined) return null;
  return value instanceof GoFloat ? value.value : value;
}

/** Converts a caller-supplied function's result for the engine: undefined becomes nil. */
export function fromCallerValue(value: unknown): unknown {
  return value === undefined ? null : value;
}
