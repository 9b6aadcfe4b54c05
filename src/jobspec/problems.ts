/** One problem with a job, as canonicalization, validation or the HCL parser reports it. */
export interface JobProblem {
  /**
   * Path of the offending value: Nomad's JSON names for API fields (`TaskGroups[0].Tasks[1].Driver`,
   * `Job` for the whole job), or the block path for HCL keys (`job.group.task.resources.memry`).
   */
  readonly field: string;
  /** The problem as a sentence that names its group and task: `group "cache" task "redis": Missing task driver`. */
  readonly text: string;
}

/**
 * Position of a value in a job: its field path, the words that name its group and task to a person
 * (`group "cache" task "redis"`), and its field path below the element that those words name.
 */
export interface Place {
  readonly field: string;
  readonly label: string;
  readonly path: string;
}

export const JOB_PLACE: Place = { field: '', label: '', path: '' };

/**
 * Returns the place of `field` inside `place`. A non-empty `label` names a new element in messages
 * (`task "redis"`), and an empty one keeps the enclosing element's label (for `Resources`).
 */
export function placeInside(place: Place, field: string, label: string): Place {
  const fieldPath = joinField(place.field, field);
  if (label === '') return { field: fieldPath, label: place.label, path: joinField(place.path, field) };
  return { field: fieldPath, label: place.label === '' ? label : `${place.label} ${label}`, path: '' };
}

/** Name of `field` in a message about `place`: `Resources.CPU` inside a task. */
export function fieldName(place: Place, field: string): string {
  return joinField(place.path, field);
}

/** Label for an element of a list of named things: `group "cache"`, or `group[2]` without a usable name. */
export function namedLabel(kind: string, name: unknown, index: number): string {
  return typeof name === 'string' && name !== '' ? `${kind} ${JSON.stringify(name)}` : `${kind}[${index}]`;
}

function joinField(parent: string, field: string): string {
  if (parent === '') return field;
  return field.startsWith('[') ? `${parent}${field}` : `${parent}.${field}`;
}

/** Problems in the order found. Every check adds to the list instead of stopping at the first. */
export class ProblemList {
  readonly #items: JobProblem[] = [];

  /** Records `message` about `field`, a path relative to `place` ('' for the place itself). */
  add(place: Place, field: string, message: string): void {
    const path = field === '' ? place.field : joinField(place.field, field);
    this.#items.push({
      field: path === '' ? 'Job' : path,
      text: place.label === '' ? message : `${place.label}: ${message}`,
    });
  }

  addAll(problems: readonly JobProblem[]): void {
    this.#items.push(...problems);
  }

  get items(): readonly JobProblem[] {
    return this.#items;
  }

  get size(): number {
    return this.#items.length;
  }
}

/**
 * Appends the validation problems that do not concern a field already reported while decoding.
 * A value of the wrong type is replaced by its default, so validating that default would only
 * repeat the same field with a misleading reason. Two fields are related when one contains the
 * other (`TaskGroups[0]` and `TaskGroups[0].Count`), and `Job` contains every field.
 */
export function withValidationProblems(
  decoding: readonly JobProblem[],
  validation: readonly JobProblem[],
): JobProblem[] {
  const decoded = new Set(decoding.map((problem) => problem.field));
  if (decoded.has('Job')) return [...decoding];

  // Sets of paths keep this linear in the number of problems, however many a hostile job has.
  const containers = new Set(decoding.flatMap((problem) => pathPrefixes(problem.field)));
  const fresh = validation.filter(
    (problem) =>
      !containers.has(problem.field) && !pathPrefixes(problem.field).some((prefix) => decoded.has(prefix)),
  );
  return [...decoding, ...fresh];
}

/** Returns a field path and every path that contains it: `A[0].B` gives `A`, `A[0]` and `A[0].B`. */
function pathPrefixes(field: string): string[] {
  const prefixes: string[] = [];
  for (let index = 1; index < field.length; index++) {
    const char = field[index];
    if (char === '.' || char === '[') prefixes.push(field.slice(0, index));
  }
  prefixes.push(field);
  return prefixes;
}
