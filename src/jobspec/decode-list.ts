import { isRecord } from './json-fields.js';
import { namedLabel, type Place, type ProblemList, placeInside } from './problems.js';

/**
 * Decodes each element of a list of structs. An element that is not an object is reported and
 * decoded as an empty object, so that the elements after it keep their indexes in field paths.
 * `kind` names the elements in messages (`group "cache"`, `task[1]`).
 */
export function decodeList<T>(
  list: readonly unknown[] | null,
  parent: Place,
  field: string,
  kind: string,
  problems: ProblemList,
  decode: (input: Readonly<Record<string, unknown>>, place: Place, problems: ProblemList) => T,
): T[] {
  const decoded: T[] = [];
  (list ?? []).forEach((element, index) => {
    const name = isRecord(element) ? nameOf(element) : undefined;
    const place = placeInside(parent, `${field}[${index}]`, namedLabel(kind, name, index));
    // Go's decoder leaves a null element as a nil pointer, which Nomad's validation rejects too.
    if (!isRecord(element)) problems.add(place, '', `${kind} must be a JSON object, got ${typeOf(element)}`);
    decoded.push(decode(isRecord(element) ? element : {}, place, problems));
  });
  return decoded;
}

export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** Returns the Name field as Go's decoder fills it: the last key that matches in any letter case. */
function nameOf(element: Readonly<Record<string, unknown>>): unknown {
  const key = Object.keys(element).findLast((candidate) => candidate.toLowerCase() === 'name');
  return key === undefined ? undefined : element[key];
}
