/**
 * Globs of ACL labels and variable paths: `*` matches any run of characters, including '/' and
 * the empty run, and no other character is special.
 */
export class Glob {
  readonly pattern: string;
  /**
   * Bytes of the pattern that are not `*` (UTF-8, as Nomad counts). A longer literal part means a
   * smaller `difference = len(target) - len(pattern) + count('*')`, so a closer match.
   */
  readonly literalBytes: number;
  readonly #parts: readonly string[];
  readonly #minLength: number;

  constructor(pattern: string) {
    this.pattern = pattern;
    this.#parts = pattern.split('*');
    this.#minLength = this.#parts.reduce((sum, part) => sum + part.length, 0);
    this.literalBytes = Buffer.byteLength(pattern) - (this.#parts.length - 1);
  }

  /** Tests the whole of `target` against the pattern; `target` is never read as a pattern. */
  matches(target: string): boolean {
    const parts = this.#parts;
    if (parts.length === 1) return target === parts[0];
    if (target.length < this.#minLength) return false;

    const first = parts[0]!;
    const last = parts[parts.length - 1]!;
    if (!target.startsWith(first) || !target.endsWith(last)) return false;

    // The middle parts may sit anywhere between the prefix and the suffix, in order. Taking each at
    // its leftmost place leaves the most room for the rest, so a greedy scan is exact.
    let from = first.length;
    const end = target.length - last.length;
    for (let i = 1; i < parts.length - 1; i++) {
      const part = parts[i]!;
      const at = target.indexOf(part, from);
      if (at < 0 || at + part.length > end) return false;
      from = at + part.length;
    }
    return true;
  }

  /** Nomad's closeness score of a matching pattern; smaller is closer. */
  difference(target: string): number {
    return Buffer.byteLength(target) - this.literalBytes;
  }
}

/**
 * Orders globs so that the first one matching a target is the closest. Most literal bytes come
 * first, because they give the smallest difference for every target. Among equals, the pattern
 * greatest in byte order comes first, because Nomad's sort picks that one in a tie.
 */
export function compareCloseness(a: GlobEntry, b: GlobEntry): number {
  if (a.literalBytes !== b.literalBytes) return b.literalBytes - a.literalBytes;
  return Buffer.compare(Buffer.from(b.key), Buffer.from(a.key));
}

/** A glob rule as `compareCloseness` sorts it. */
export interface GlobEntry {
  /** The pattern as Nomad keys it; for variables, `NAMESPACE\0PATH`. */
  readonly key: string;
  readonly literalBytes: number;
}
