import { compareCloseness, Glob, type GlobEntry } from './glob.js';

interface GlobRule<C> extends GlobEntry {
  readonly glob: Glob;
  readonly capabilities: ReadonlySet<C>;
}

/**
 * Compiled capability sets of one kind of labeled rule (namespaces, node pools or host volumes):
 * a map of exact labels and a list of glob labels sorted closest first, so that a lookup is one map
 * read or one scan that stops at the first match.
 */
export class CapabilityTable<C extends string> {
  readonly #exact: ReadonlyMap<string, ReadonlySet<C>>;
  readonly #globs: readonly GlobRule<C>[];

  constructor(sets: ReadonlyMap<string, ReadonlySet<C>>) {
    const exact = new Map<string, ReadonlySet<C>>();
    const globs: GlobRule<C>[] = [];
    for (const [label, capabilities] of sets) {
      if (label.includes('*')) {
        const glob = new Glob(label);
        globs.push({ key: label, literalBytes: glob.literalBytes, glob, capabilities });
      } else {
        exact.set(label, capabilities);
      }
    }
    globs.sort(compareCloseness);
    this.#exact = exact;
    this.#globs = globs;
  }

  /**
   * Returns the set of the exact label, else of the closest matching glob, else undefined. An exact
   * label wins even when its set is empty.
   */
  lookup(name: string): ReadonlySet<C> | undefined {
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    for (const rule of this.#globs) {
      if (rule.glob.matches(name)) return rule.capabilities;
    }
    return undefined;
  }

  /** Tests every set, exact and glob, and returns whether any passes. */
  some(test: (capabilities: ReadonlySet<C>) => boolean): boolean {
    for (const capabilities of this.#exact.values()) if (test(capabilities)) return true;
    for (const rule of this.#globs) if (test(rule.capabilities)) return true;
    return false;
  }
}

/**
 * Adds capabilities to the set of a label as Nomad compiles namespaces, node pools and host
 * volumes. A label that appears at all gets a set, even an empty one.
 */
export function addLabelCapabilities<C extends string>(
  sets: Map<string, Set<C>>,
  label: string,
  capabilities: readonly C[],
): void {
  let set = sets.get(label);
  if (set === undefined) {
    set = new Set();
    sets.set(label, set);
  }
  addWithStickyDeny(set, capabilities);
}

/**
 * Unions capabilities into a set in which `deny` is sticky: `deny` clears the set, and a set that
 * contains `deny` ignores later additions.
 */
export function addWithStickyDeny<C extends string>(set: Set<C>, capabilities: readonly C[]): void {
  if (set.has('deny' as C)) return;
  for (const capability of capabilities) {
    if (capability === 'deny') {
      set.clear();
      set.add(capability);
      return;
    }
    set.add(capability);
  }
}
