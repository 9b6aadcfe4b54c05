import type { Logger } from 'pino';
import { type Policy, PolicyError, parsePolicy } from '../../acl/index.js';
import type { AclPolicy } from '../../state/store.js';
import { RequestError } from '../request-error.js';
import { LruCache } from './lru-cache.js';

interface CachedParse {
  readonly modifyIndex: number;
  readonly policy: Policy | null;
  /** Set when the stored rules failed to parse; every use of the policy then fails with it. */
  readonly error: RequestError | null;
}

/**
 * Parsed stored policies by name, each valid for the ModifyIndex it was parsed at. Parsing costs
 * 3 to 6 ms a policy (js-hcl-parser), so a server parses a policy once per change, not once per
 * request. Stored policies are parsed in lenient mode, so that a policy written by a newer or older
 * version with keys this one does not know keeps working.
 */
export class ParsedPolicyCache {
  readonly #entries: LruCache<string, CachedParse>;
  readonly #logger: Logger | null;

  constructor(capacity: number, logger: Logger | null) {
    this.#entries = new LruCache(capacity);
    this.#logger = logger;
  }

  /** Tests whether `row` is parsed at its current ModifyIndex (successfully or not). */
  has(row: AclPolicy): boolean {
    return this.#entries.get(row.Name)?.modifyIndex === row.ModifyIndex;
  }

  /**
   * Returns the parsed form of a stored policy. Throws RequestError 500 when its rules do not
   * parse: the writer checked them in strict mode, so only a parser change between versions gets
   * here, and failing is safer than dropping a policy that may hold a deny.
   */
  get(row: AclPolicy): Policy {
    let cached = this.#entries.get(row.Name);
    if (cached?.modifyIndex !== row.ModifyIndex) {
      cached = this.#parse(row);
      this.#entries.set(row.Name, cached);
    }
    if (cached.error !== null) throw cached.error;
    return cached.policy!;
  }

  #parse(row: AclPolicy): CachedParse {
    try {
      return { modifyIndex: row.ModifyIndex, policy: parsePolicy(row.Rules, 'lenient'), error: null };
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      // Logged once per version of the policy, because the failure is cached with it.
      this.#logger?.error(
        {
          policy: row.Name,
          modifyIndex: row.ModifyIndex,
          code: err.code,
          field: err.field,
          reason: err.message,
        },
        'failed to parse a stored ACL policy',
      );
      const message =
        `failed to parse stored ACL policy ${JSON.stringify(row.Name)} (modify index ${row.ModifyIndex}): ` +
        `${err.message}. Apply the policy again with valid rules`;
      return { modifyIndex: row.ModifyIndex, policy: null, error: new RequestError(500, message) };
    }
  }
}
