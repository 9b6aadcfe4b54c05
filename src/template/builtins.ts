/**
 * The builtin functions of Go's text/template that this engine implements, except `and` and `or`,
 * which the executor evaluates itself because they stop at the first decisive argument.
 */
import { eq, ge, gt, le, lt, ne } from './compare.js';
import { EvaluationFailure } from './errors.js';
import type { FormatLimits } from './format-value.js';
import { sprint, sprintf, sprintln } from './printf.js';
import {
  concrete,
  type GoMap,
  isTrue,
  kindOf,
  lengthOf,
  MISSING,
  mapGet,
  typeName,
  unsupportedValue,
} from './values.js';

export interface Builtin {
  readonly minArgs: number;
  /** Null for a variadic builtin. */
  readonly maxArgs: number | null;
  /** Whether the first parameter is a Go string, as printf's format is. */
  readonly firstIsString: boolean;
  readonly call: (args: readonly unknown[], limits: FormatLimits) => unknown;
}

/** Builtins that evaluate their arguments lazily; the executor implements them. */
export const SHORT_CIRCUIT_BUILTINS: ReadonlySet<string> = new Set(['and', 'or']);

/** Go builtins that this engine rejects. */
export const UNSUPPORTED_BUILTINS: ReadonlySet<string> = new Set(['call', 'html', 'js', 'slice', 'urlquery']);

function failure(message: string): EvaluationFailure {
  return new EvaluationFailure('EXECUTION', message);
}

function length(value: unknown): number {
  const item = concrete(value);
  if (item === MISSING) throw failure('len of nil pointer');
  if (kindOf(item) === 'unsupported') throw unsupportedValue(item);
  const result = lengthOf(item);
  if (result === null) throw failure(`len of type ${typeName(item)}`);
  return result;
}

function indexOnce(item: unknown, rawIndex: unknown): unknown {
  const index = concrete(rawIndex);
  switch (kindOf(item)) {
    case 'slice': {
      const slice = item as readonly unknown[];
      if (index === MISSING) throw failure('cannot index slice/array with nil');
      if (kindOf(index) !== 'int') throw failure(`cannot index slice/array with type ${typeName(index)}`);
      const position = index as number;
      if (position < 0 || position >= slice.length) throw failure(`index out of range: ${position}`);
      return slice[position] ?? null;
    }
    case 'map': {
      if (index === MISSING) throw failure('value is nil; should be of type string');
      if (kindOf(index) !== 'string') throw failure(`value has type ${typeName(index)}; should be string`);
      const value = mapGet(item as GoMap, index as string);
      // A missing key gives the zero value of the element type, a nil interface{}.
      return value === MISSING ? null : value;
    }
    case 'string':
      throw new EvaluationFailure('UNSUPPORTED', 'index of a string, which yields a byte, is not supported');
    case 'unsupported':
      throw unsupportedValue(item);
    default:
      throw failure(`can't index item of type ${typeName(item)}`);
  }
}

/** Indexes like Go's `index x 1 2`, which is x[1][2]: slices take ints, maps take strings, and a missing map key gives nil. */
function index(args: readonly unknown[]): unknown {
  let item = concrete(args[0]);
  if (item === MISSING) throw failure('index of untyped nil');
  for (const rawIndex of args.slice(1)) {
    if (item === null || item === undefined) throw failure('index of nil pointer');
    item = indexOnce(item, rawIndex);
  }
  return item;
}

function fixed(count: number, call: Builtin['call']): Builtin {
  return { minArgs: count, maxArgs: count, firstIsString: false, call };
}

export const BUILTINS: ReadonlyMap<string, Builtin> = new Map<string, Builtin>([
  ['not', fixed(1, ([value]) => !isTrue(concrete(value)))],
  ['len', fixed(1, ([value]) => length(value))],
  ['index', { minArgs: 1, maxArgs: null, firstIsString: false, call: index }],
  ['eq', { minArgs: 1, maxArgs: null, firstIsString: false, call: (args) => eq(args[0], args.slice(1)) }],
  ['ne', fixed(2, ([a, b]) => ne(a, b))],
  ['lt', fixed(2, ([a, b]) => lt(a, b))],
  ['le', fixed(2, ([a, b]) => le(a, b))],
  ['gt', fixed(2, ([a, b]) => gt(a, b))],
  ['ge', fixed(2, ([a, b]) => ge(a, b))],
  [
    'print',
    { minArgs: 0, maxArgs: null, firstIsString: false, call: (args, limits) => sprint(args, limits) },
  ],
  [
    'println',
    { minArgs: 0, maxArgs: null, firstIsString: false, call: (args, limits) => sprintln(args, limits) },
  ],
  [
    'printf',
    {
      minArgs: 1,
      maxArgs: null,
      firstIsString: true,
      call: (args, limits) => sprintf(args[0] as string, args.slice(1), limits),
    },
  ],
]);
