import { fieldName, type Place, type ProblemList } from './problems.js';

/** JSON type of a field in Nomad's API structs. `integer` covers Go's int types and time.Duration. */
export type FieldKind = 'string' | 'integer' | 'boolean' | 'object' | 'array' | 'strings' | 'stringMap';

/** Every field of one Nomad API struct, by its JSON name, including the ones Signet ignores. */
export type FieldSpec = Readonly<Record<string, FieldKind>>;

const lowerCaseIndexes = new WeakMap<FieldSpec, ReadonlyMap<string, string>>();

/**
 * Fields of one JSON object, read the way Go's encoding/json fills a Nomad struct when Nomad's API
 * reads a job. Keys match field names exactly or else case-insensitively, and a later key wins over
 * an earlier one for the same field. Null leaves the field at its default, and keys that match no
 * field are ignored. A known field with a value of the wrong type becomes a problem, and its getter
 * then returns the default, so that decoding continues and every problem is listed.
 */
export class JsonFields {
  readonly #values = new Map<string, unknown>();
  readonly #rejected = new Set<string>();

  constructor(
    input: Readonly<Record<string, unknown>>,
    spec: FieldSpec,
    place: Place,
    problems: ProblemList,
  ) {
    const lowerCase = lowerCaseIndex(spec);
    for (const [key, value] of Object.entries(input)) {
      const name = Object.hasOwn(spec, key) ? key : lowerCase.get(key.toLowerCase());
      if (name !== undefined) this.#values.set(name, value);
    }

    for (const [name, value] of this.#values) {
      if (value === null) {
        this.#values.delete(name);
        continue;
      }
      const problem = kindProblem(value, spec[name]!);
      if (problem !== null) {
        problems.add(place, name, `${fieldName(place, name)}: ${problem}`);
        this.#values.delete(name);
        this.#rejected.add(name);
      }
    }
  }

  /** True when the field was given with a value of the wrong type. */
  rejected(name: string): boolean {
    return this.#rejected.has(name);
  }

  string(name: string, fallback: string): string {
    const value = this.#values.get(name);
    return typeof value === 'string' ? value : fallback;
  }

  integer(name: string, fallback: number): number {
    const value = this.#values.get(name);
    return typeof value === 'number' ? value : fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.#values.get(name);
    return typeof value === 'boolean' ? value : fallback;
  }

  strings(name: string): readonly string[] | null {
    return (this.#values.get(name) as readonly string[] | undefined) ?? null;
  }

  stringMap(name: string): Readonly<Record<string, string>> | null {
    return (this.#values.get(name) as Readonly<Record<string, string>> | undefined) ?? null;
  }

  object(name: string): Readonly<Record<string, unknown>> | null {
    return (this.#values.get(name) as Readonly<Record<string, unknown>> | undefined) ?? null;
  }

  array(name: string): readonly unknown[] | null {
    return (this.#values.get(name) as readonly unknown[] | undefined) ?? null;
  }
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Describes a JSON value in a problem message, quoting at most 40 characters of a string. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

const KIND_NAMES: Readonly<Record<FieldKind, string>> = {
  string: 'a string',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  strings: 'an array of strings',
  stringMap: 'an object of strings',
};

/** Returns why `value` is not of `kind`, or null when it is. */
function kindProblem(value: unknown, kind: FieldKind): string | null {
  const expected = `expected ${KIND_NAMES[kind]}`;
  switch (kind) {
    case 'string':
    case 'boolean':
      return typeof value === kind ? null : `${expected}, got ${describe(value)}`;
    case 'integer':
      // Go's int64 has a wider range, but JSON numbers past 2^53 lose precision in JavaScript.
      return typeof value === 'number' && Number.isSafeInteger(value)
        ? null
        : `${expected}, got ${describe(value)}`;
    case 'object':
      return isRecord(value) ? null : `${expected}, got ${describe(value)}`;
    case 'array':
      return Array.isArray(value) ? null : `${expected}, got ${describe(value)}`;
    case 'strings': {
      if (!Array.isArray(value)) return `${expected}, got ${describe(value)}`;
      const index = value.findIndex((item) => typeof item !== 'string');
      return index < 0 ? null : `${expected}, got ${describe(value[index])} at index ${index}`;
    }
    case 'stringMap': {
      if (!isRecord(value)) return `${expected}, got ${describe(value)}`;
      const entry = Object.entries(value).find(([, item]) => typeof item !== 'string');
      return entry === undefined
        ? null
        : `${expected}, got ${describe(entry[1])} for key ${JSON.stringify(entry[0])}`;
    }
  }
}

function lowerCaseIndex(spec: FieldSpec): ReadonlyMap<string, string> {
  let index = lowerCaseIndexes.get(spec);
  if (index === undefined) {
    index = new Map(Object.keys(spec).map((name) => [name.toLowerCase(), name]));
    lowerCaseIndexes.set(spec, index);
  }
  return index;
}
