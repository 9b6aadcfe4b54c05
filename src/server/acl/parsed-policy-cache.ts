import type { Logger } from 'pino';
import {
  type Policy,
  PolicyError,
  type PolicyParseMode,
  PolicyParserError,
  parsePolicy,
  parsePolicyOffThread,
} from '../../acl/index.js';
import type { AclPolicy } from '../../state/store.js';
import { RequestError } from '../request-error.js';
import { LruCache } from './lru-cache.js';

interface CachedParse {
  readonly modifyIndex: number;
  readonly policy: Policy | null;
  /** Set when the stored rules failed to parse; every use of the policy then fails with it. */
  readonly error: RequestError | null;
}

/** Parses rules off the caller's thread; ParsedPolicyCache's default is parsePolicyOffThread. */
export type AsyncPolicyParser = (rules: string, mode: PolicyParseMode) => Promise<Policy>;

/**
 * Parsed stored policies by name, each valid for the ModifyIndex it was parsed at. js-hcl-parser
 * takes about 1 ms for a policy of 130 bytes and 0.2 s for one of 64 KiB. So a server parses a
 * policy once per change, not once per request, and `load` parses it on the parser worker thread.
 * Stored policies are parsed in lenient mode, so that a policy written by a newer or older version
 * with keys this one does not know keeps working.
 */
export class ParsedPolicyCache {
  readonly #entries: LruCache<string, CachedParse>;
  readonly #logger: Logger | null;
  readonly #parseOffThread: AsyncPolicyParser;
  /** Parses in progress by name and ModifyIndex, so that concurrent requests share one. */
  readonly #loading = new Map<string, Promise<void>>();

  constructor(
    capacity: number,
    logger: Logger | null,
    parseOffThread: AsyncPolicyParser = parsePolicyOffThread,
  ) {
    this.#entries = new LruCache(capacity);
    this.#logger = logger;
    this.#parseOffThread = parseOffThread;
  }

  /** Tests whether `row` is parsed at its current ModifyIndex (successfully or not). */
  has(row: AclPolicy): boolean {
    return this.#entries.get(row.Name)?.modifyIndex === row.ModifyIndex;
  }

  /**
   * Returns the parsed form of a stored policy. Throws RequestError 500 when its rules do not
   * parse: the writer checked them in strict mode, so only a parser change between versions gets
   * here, and failing is safer than dropping a policy that may hold a deny. A policy not cached at
   * its ModifyIndex is parsed here, on the caller's thread, so call `load` first.
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

  /**
   * Parses a stored policy on the parser worker thread and caches the outcome, unless it is cached
   * at its ModifyIndex already. Rules that do not parse are cached as a failure, which `get` then
   * throws, and `load` resolves. Throws RequestError 500, and caches nothing, when the worker fails
   * (crash, timeout), because the same rules may parse on the next request.
   */
  load(row: AclPolicy): Promise<void> {
    if (this.has(row)) return Promise.resolve();
    const key = `${row.Name}\n${row.ModifyIndex}`;
    let loading = this.#loading.get(key);
    if (loading === undefined) {
      loading = this.#parseAndStore(row).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  async #parseAndStore(row: AclPolicy): Promise<void> {
    let parsed: CachedParse;
    try {
      const policy = await this.#parseOffThread(row.Rules, 'lenient');
      parsed = { modifyIndex: row.ModifyIndex, policy, error: null };
    } catch (err) {
      if (err instanceof PolicyParserError) {
        this.#logger?.error(
          { policy: row.Name, modifyIndex: row.ModifyIndex, code: err.code, err },
          'failed to parse a stored ACL policy on the parser thread',
        );
        throw new RequestError(
          500,
          `failed to parse stored ACL policy ${JSON.stringify(row.Name)} (modify index ${row.ModifyIndex}): ${err.message}`,
        );
      }
      if (!(err instanceof PolicyError)) throw err;
      parsed = this.#failure(row, err);
    }
    // A newer version may have been parsed meanwhile, by `get` or by another load; keep it.
    const current = this.#entries.get(row.Name);
    if (current === undefined || current.modifyIndex < row.ModifyIndex) this.#entries.set(row.Name, parsed);
  }

  #parse(row: AclPolicy): CachedParse {
    try {
      return { modifyIndex: row.ModifyIndex, policy: parsePolicy(row.Rules, 'lenient'), error: null };
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      return this.#failure(row, err);
    }
  }

  #failure(row: AclPolicy, err: PolicyError): CachedParse {
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
