import type { VariableCapability } from './capabilities.js';
import { compareCloseness, Glob, type GlobEntry } from './glob.js';

interface VariableGlobRule extends GlobEntry {
  readonly namespace: Glob;
  readonly path: Glob;
  readonly capabilities: ReadonlySet<VariableCapability>;
}

/** Key of a variables rule as Nomad stores it; rules sort and tie-break on it. */
export function variableRuleKey(namespace: string, path: string): string {
  return `${namespace}\0${path}`;
}

/**
 * Compiled variables rules. A rule is a glob when its namespace label or its path contains `*`.
 * Exact rules sit in a map by namespace, then by path. Glob rules sit in a list sorted closest
 * first, where closeness counts the literal bytes of `NAMESPACE\0PATH` as Nomad does.
 *
 * Namespace and path are matched separately, which for names without a NUL byte is the same as
 * Nomad's match of the joined key, and keeps a `*` from spanning the separator otherwise.
 */
export class VariableTable {
  readonly #exact: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<VariableCapability>>>;
  readonly #globs: readonly VariableGlobRule[];
  readonly #keys: readonly string[];

  /** `sets` maps each `variableRuleKey` to its rule, in the order the rules were compiled. */
  constructor(
    sets: ReadonlyMap<string, { namespace: string; path: string; set: ReadonlySet<VariableCapability> }>,
  ) {
    const exact = new Map<string, Map<string, ReadonlySet<VariableCapability>>>();
    const globs: VariableGlobRule[] = [];
    for (const [key, { namespace, path, set }] of sets) {
      if (namespace.includes('*') || path.includes('*')) {
        const namespaceGlob = new Glob(namespace);
        const pathGlob = new Glob(path);
        globs.push({
          key,
          literalBytes: namespaceGlob.literalBytes + 1 + pathGlob.literalBytes,
          namespace: namespaceGlob,
          path: pathGlob,
          capabilities: set,
        });
      } else {
        let paths = exact.get(namespace);
        if (paths === undefined) {
          paths = new Map();
          exact.set(namespace, paths);
        }
        paths.set(path, set);
      }
    }
    globs.sort(compareCloseness);
    this.#exact = exact;
    this.#globs = globs;
    this.#keys = [...sets.keys()];
  }

  /** Returns the set of an exact (glob-free) rule for this namespace and path, if there is one. */
  exact(namespace: string, path: string): ReadonlySet<VariableCapability> | undefined {
    return this.#exact.get(namespace)?.get(path);
  }

  /** Returns the set of the closest glob rule that matches, if any. */
  closestGlob(namespace: string, path: string): ReadonlySet<VariableCapability> | undefined {
    for (const rule of this.#globs) {
      if (rule.namespace.matches(namespace) && rule.path.matches(path)) return rule.capabilities;
    }
    return undefined;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** Tests whether any rule's `NAMESPACE\0PATH` key starts with `prefix`, byte for byte. */
  hasKeyWithPrefix(prefix: string): boolean {
    return this.#keys.some((key) => key.startsWith(prefix));
  }
}
