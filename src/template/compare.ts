/**
 * The comparison builtins eq, ne, lt, le, gt and ge with Go's rules. Only bool, int, float64 and
 * string values compare, and both sides must have the same kind, so an int never equals a float64.
 * eq also accepts nil on either side, which equals only nil.
 */
import { EvaluationFailure } from './errors.js';
import { compareStrings, concrete, kindOf, MISSING, numberOf, typeName, unsupportedValue } from './values.js';

type BasicKind = 'bool' | 'int' | 'float64' | 'string';

function basicKind(value: unknown): BasicKind | null {
  const kind = kindOf(value);
  if (kind === 'unsupported') throw unsupportedValue(value);
  return kind === 'bool' || kind === 'int' || kind === 'float64' || kind === 'string' ? kind : null;
}

function failure(message: string): EvaluationFailure {
  return new EvaluationFailure('EXECUTION', message);
}

function equalBasic(kind: BasicKind, a: unknown, b: unknown): boolean {
  if (kind === 'int' || kind === 'float64') return numberOf(a) === numberOf(b);
  return a === b;
}

/** eq a b c...: whether a equals any of the others. */
export function eq(first: unknown, others: readonly unknown[]): boolean {
  const a = concrete(first);
  if (others.length === 0) throw failure('missing argument for comparison');
  const kindA = basicKind(a);
  for (const other of others) {
    const b = concrete(other);
    const kindB = basicKind(b);
    let equal = false;
    if (kindA !== kindB) {
      if (a !== MISSING && b !== MISSING) {
        throw failure(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
      }
    } else if (kindA !== null) {
      equal = equalBasic(kindA, a, b);
    } else if (a === MISSING || b === MISSING) {
      // Arrays and maps are never nil here, so nil equals only nil.
      equal = a === b;
    } else if (kindOf(a) !== kindOf(b)) {
      throw failure(`non-comparable types ${typeName(a)} and ${typeName(b)}`);
    } else {
      throw failure(`non-comparable type ${typeName(b)}`);
    }
    if (equal) return true;
  }
  return false;
}

export function ne(a: unknown, b: unknown): boolean {
  return !eq(a, [b]);
}

export function lt(first: unknown, second: unknown): boolean {
  const a = concrete(first);
  const b = concrete(second);
  const kindA = basicKind(a);
  const kindB = basicKind(b);
  if (kindA === null || kindB === null) throw failure('invalid type for comparison');
  if (kindA !== kindB) throw failure(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  switch (kindA) {
    case 'bool':
      throw failure('invalid type for comparison');
    case 'string':
      return compareStrings(a as string, b as string) < 0;
    default:
      return numberOf(a) < numberOf(b);
  }
}

export function le(a: unknown, b: unknown): boolean {
  return lt(a, b) || eq(a, [b]);
}

export function gt(a: unknown, b: unknown): boolean {
  return !le(a, b);
}

export function ge(a: unknown, b: unknown): boolean {
  return !lt(a, b);
}
