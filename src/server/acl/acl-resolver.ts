import type { Logger } from 'pino';
import {
  type Acl,
  compileAcl,
  MANAGEMENT_ACL,
  selectWorkloadPolicies,
  type WorkloadScope,
} from '../../acl/index.js';
import type { AclPolicy, AclToken, StateStore } from '../../state/store.js';
import type { Principal } from '../backend.js';
import { RequestError } from '../request-error.js';
import { LruCache } from './lru-cache.js';
import { type AsyncPolicyParser, ParsedPolicyCache } from './parsed-policy-cache.js';

/** The ACL that a request runs under, with what it was resolved from. */
export interface ResolvedAcl {
  readonly acl: Acl;
  /**
   * The workload of a workload identity, for its implicit read and list access to its own
   * `nomad/jobs/...` variables; null for any other request.
   */
  readonly workload: WorkloadScope | null;
  /**
   * The request's stored ACL token, SecretID included, so never to be logged or returned to
   * another caller. Null for anonymous requests, workload identities and when ACLs are disabled.
   */
  readonly token: AclToken | null;
}

/** The policy that anonymous requests get when it exists, as in Nomad. */
export const ANONYMOUS_POLICY_NAME = 'anonymous';

/** Compiled ACLs kept per server, as Nomad's ACL cache (512 entries). */
export const DEFAULT_MAX_COMPILED_ACLS = 512;
/** Workload ACLs kept per server: one per verified token that DEFAULT_VERIFIED_TOKEN_CACHE_SIZE keeps, at most. */
export const DEFAULT_MAX_WORKLOAD_ACLS = 10_000;
/**
 * Parsed policies kept per server. js-hcl-parser 1.0.1 takes 0.3 to 1.7 ms for a policy of 100
 * to 140 bytes, 18 to 36 ms for 8 KiB, about 105 ms for 32 KiB and about 200 ms for 64 KiB (the
 * limit). Those are figures from a 2-core VM with Node.js 20.20 (docs/acl.md, Cost).
 */
export const DEFAULT_MAX_PARSED_POLICIES = 1024;

/**
 * Times `prepare` looks again for policies that changed while it parsed. A policy rewritten during
 * every round is left to `resolve`, which parses it on the caller's thread.
 */
const MAX_PREPARE_ROUNDS = 3;

export interface AclResolverDeps {
  readonly state: StateStore;
  /** `acl.enabled` of the agent configuration. */
  readonly enabled: boolean;
  /** Wall clock in Unix milliseconds, for token expiry. */
  readonly now: () => number;
  /** Receives parse failures of stored policies; none are logged without it. */
  readonly logger?: Logger;
  /** Default DEFAULT_MAX_COMPILED_ACLS. */
  readonly maxCompiledAcls?: number;
  /** Default DEFAULT_MAX_WORKLOAD_ACLS. */
  readonly maxWorkloadAcls?: number;
  /** Default DEFAULT_MAX_PARSED_POLICIES. */
  readonly maxParsedPolicies?: number;
  /** Parser that `prepare` uses; default parsePolicyOffThread, the process's parser worker thread. */
  readonly parseOffThread?: AsyncPolicyParser;
}

type WorkloadPrincipal = Extract<Principal, { kind: 'workload' }>;

/** The token, workload and stored policies of a principal, before the policies are compiled. */
interface Subject {
  readonly token: AclToken | null;
  readonly workload: WorkloadScope | null;
  readonly management: boolean;
  readonly policies: readonly AclPolicy[];
}

/** The ACL of an empty policy set: every check fails. An empty set must never allow everything (CVE-2023-1299). */
const DENY_ALL: Acl = compileAcl([]);

/**
 * Turns the principal of a request into the ACL it runs under, from this server's own replicated
 * state, so that a follower resolves it without asking the leader.
 *
 * - ACLs disabled: an ACL that allows everything, whatever the token.
 * - No token: the policy named `anonymous` if it exists, else deny-all.
 * - ACL token: management gets MANAGEMENT_ACL; a client token gets its policies, skipping names
 *   that no policy has. Unknown and expired tokens are rejected with 403.
 * - Workload identity: the policies tied to its namespace, job, group and task, or deny-all
 *   when there are none (plus, through `workload`, implicit access to its own variables).
 *
 * Parsed policies are cached by name and ModifyIndex. Compiled ACLs are cached by the set of
 * policy names, and a workload's ACL by its namespace, job, group and task. Both are dropped
 * whenever the aclPolicies table changes.
 */
export class AclResolver {
  readonly #state: StateStore;
  readonly #enabled: boolean;
  readonly #now: () => number;
  readonly #parsed: ParsedPolicyCache;
  readonly #compiled: LruCache<string, Acl>;
  /**
   * ACL of each workload (namespace, job, group and task), so that a workload's request skips the
   * policy lookup and the policy-set key. Its policies are chosen from the aclPolicies table alone,
   * so an entry stays right until that table changes, and it is cleared with #compiled.
   */
  readonly #workloadAcls: LruCache<string, Acl>;
  /** aclPolicies table index that every entry of #compiled and #workloadAcls was computed at. */
  #compiledAtIndex = -1;

  constructor(deps: AclResolverDeps) {
    this.#state = deps.state;
    this.#enabled = deps.enabled;
    this.#now = deps.now;
    this.#parsed = new ParsedPolicyCache(
      deps.maxParsedPolicies ?? DEFAULT_MAX_PARSED_POLICIES,
      deps.logger ?? null,
      deps.parseOffThread,
    );
    this.#compiled = new LruCache(deps.maxCompiledAcls ?? DEFAULT_MAX_COMPILED_ACLS);
    this.#workloadAcls = new LruCache(deps.maxWorkloadAcls ?? DEFAULT_MAX_WORKLOAD_ACLS);
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Resolves a request's principal (null for a request without a token). Throws RequestError 403
   * `ACL token not found` or `ACL token expired` for an ACL token that is not usable, and 500 when
   * a stored policy that applies does not parse. Policies not yet parsed are parsed here, on the
   * caller's thread, which takes about 0.2 s for a 64 KiB policy, so servers call `prepare` first.
   */
  resolve(principal: Principal | null): ResolvedAcl {
    if (!this.#enabled) {
      const workload = principal?.kind === 'workload' ? workloadOf(principal) : null;
      return { acl: MANAGEMENT_ACL, workload, token: null };
    }
    if (principal?.kind === 'workload') {
      const workload = workloadOf(principal);
      return { acl: this.#workloadAcl(workload), workload, token: null };
    }
    const subject = this.#subject(principal);
    const acl = subject.management ? MANAGEMENT_ACL : this.#compile(subject.policies);
    return { acl, workload: subject.workload, token: subject.token };
  }

  /**
   * Parses the policies that `resolve(principal)` needs and that are not cached yet on the parser
   * worker thread, so that `resolve` right after finds them parsed and does not hold the server's
   * event loop. Throws what `resolve` throws for an unusable token, and RequestError 500 when the
   * parser worker fails.
   */
  async prepare(principal: Principal | null): Promise<void> {
    if (!this.#enabled) return;
    if (principal?.kind === 'workload' && this.#cachedWorkloadAcl(workloadOf(principal)) !== undefined)
      return;
    for (let round = 0; round < MAX_PREPARE_ROUNDS; round++) {
      // Each round reads the subject again: a policy may change while the previous round parses.
      const missing = this.#subject(principal).policies.filter((row) => !this.#parsed.has(row));
      if (missing.length === 0) return;
      await Promise.all(missing.map((row) => this.#parsed.load(row)));
    }
  }

  #subject(principal: Principal | null): Subject {
    const state = this.#state;
    if (principal === null) {
      const anonymous = state.aclPolicy(ANONYMOUS_POLICY_NAME);
      return {
        token: null,
        workload: null,
        management: false,
        policies: anonymous === null ? [] : [anonymous],
      };
    }
    if (principal.kind === 'acl-token') {
      const token = this.#usableToken(principal.secretId);
      if (token.Type === 'management') return { token, workload: null, management: true, policies: [] };
      // Names that no policy has are skipped: they grant nothing, as in Nomad.
      const policies: AclPolicy[] = [];
      for (const name of token.Policies) {
        const policy = state.aclPolicy(name);
        if (policy !== null) policies.push(policy);
      }
      return { token, workload: null, management: false, policies };
    }
    const workload = workloadOf(principal);
    const candidates = state.aclPoliciesForJob(workload.namespace, workload.jobId);
    return {
      token: null,
      workload,
      management: false,
      policies: selectWorkloadPolicies(candidates, workload),
    };
  }

  #usableToken(secretId: string): AclToken {
    const token = this.#state.aclTokenBySecret(secretId);
    if (token === null) throw new RequestError(403, 'ACL token not found');
    // Nomad's rule: expired once the expiration time is in the past. Times are Unix nanoseconds.
    if (token.ExpirationTime !== null && token.ExpirationTime < this.#now() * 1_000_000) {
      throw new RequestError(403, 'ACL token expired');
    }
    return token;
  }

  /** Returns the workload's ACL, from #workloadAcls when the policies have not changed since. */
  #workloadAcl(workload: WorkloadScope): Acl {
    const cached = this.#cachedWorkloadAcl(workload);
    if (cached !== undefined) return cached;
    const candidates = this.#state.aclPoliciesForJob(workload.namespace, workload.jobId);
    const acl = this.#compile(selectWorkloadPolicies(candidates, workload));
    this.#workloadAcls.set(workloadKey(workload), acl);
    return acl;
  }

  #cachedWorkloadAcl(workload: WorkloadScope): Acl | undefined {
    this.#dropStaleAcls();
    return this.#workloadAcls.get(workloadKey(workload));
  }

  /** Clears the compiled ACLs once the aclPolicies table has changed since they were compiled. */
  #dropStaleAcls(): void {
    const tableIndex = this.#state.tableIndex('aclPolicies');
    if (tableIndex === this.#compiledAtIndex) return;
    // Any policy may have changed, so no compiled ACL can be trusted. Parsed policies stay,
    // because they are checked against each policy's own ModifyIndex.
    this.#compiled.clear();
    this.#workloadAcls.clear();
    this.#compiledAtIndex = tableIndex;
  }

  #compile(policies: readonly AclPolicy[]): Acl {
    if (policies.length === 0) return DENY_ALL;
    this.#dropStaleAcls();

    // Policy names are letters, digits and '-', so a newline cannot occur inside one.
    const key = [...new Set(policies.map((policy) => policy.Name))].sort().join('\n');
    const cached = this.#compiled.get(key);
    if (cached !== undefined) return cached;
    const acl = compileAcl(policies.map((policy) => this.#parsed.get(policy)));
    this.#compiled.set(key, acl);
    return acl;
  }
}

/** Returns the #workloadAcls key of a workload. The lengths keep names that contain a separator apart. */
function workloadKey(workload: WorkloadScope): string {
  const { namespace, jobId, group, task } = workload;
  return `${namespace.length}:${namespace}${jobId.length}:${jobId}${group.length}:${group}${task.length}:${task}`;
}

/**
 * Builds the workload scope of a verified identity. The claims name the parent job of a dispatched
 * or periodic child, and the allocation gives the group, which the identity does not carry.
 */
function workloadOf(principal: WorkloadPrincipal): WorkloadScope {
  return {
    namespace: principal.claims.nomad_namespace,
    jobId: principal.claims.nomad_job_id,
    group: principal.alloc.TaskGroup,
    task: principal.claims.nomad_task,
  };
}
