import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type { VariableCapability } from '../src/acl/index.js';
import { type SignAllocationsContext, signAllocations } from '../src/identity/index.js';
import { deriveSigningKey, generateRootKey, keyEncryptionKey, wrapRootKey } from '../src/keyring/index.js';
import { AclResolver, type ResolvedAcl } from '../src/server/acl/acl-resolver.js';
import { Authenticator } from '../src/server/keyring/authenticator.js';
import { ServerKeyring } from '../src/server/keyring/server-keyring.js';
import type { AclPolicy, JobAcl } from '../src/state/acl-policies.js';
import { type Command, encodeCommand } from '../src/state/commands.js';
import { StateStore } from '../src/state/store.js';
import { benchJob, benchNode, benchPlacement, median, T0 } from './fixtures.js';

/**
 * ACL resolutions per second on a follower, from a workload identity to a decision, in one process
 * on one core (token verification is synchronous node:crypto). The follower's StateStore applies
 * its rows as Raft entries: a root key, a node, a job of ALLOCS allocations with signed identities,
 * the policies tied to that job, its group and its task, and the policies of OTHER_JOBS other jobs.
 * Each resolution takes a server's request path: Authenticator.authenticate, then
 * AclResolver.prepare and resolve as ClusterOperations.resolveAcl calls them, then one
 * allowVariableOperation. The cases:
 * - cached: one Authenticator and one resolver for every token, so the verified tokens, the
 *   workload ACLs, the compiled ACL and the parsed policies are warm;
 * - uncached, fresh resolver: a new AclResolver for each token, so its 3 policies are parsed and
 *   compiled each time, as on the first request after a server starts;
 * - uncached, after a policy change: an unrelated policy is replaced by a Raft entry before each
 *   token (outside the timing). That drops every compiled ACL, so each resolution compiles again
 *   from the parsed policies, which stay cached;
 * - the decision alone, on an ACL resolved once.
 * Every decision must allow, so a policy that resolution failed to pick up stops the benchmark.
 */
const ALLOCS = 2_000;
const OTHER_JOBS = 50;
const RUNS = 5;
const FRESH_RESOLVER_TOKENS = 60;
const DECISIONS = 1_000_000;

const JOB_ID = 'acl-resolve-bench';
const GROUP = 'web';
const TASK = 'server';

/** Decisions granted by the job's, the group's and the task's policy, and by the implicit access. */
const CHECKS: readonly [path: string, capability: VariableCapability][] = [
  ['shared/tls/cert', 'read'],
  ['cache/redis', 'list'],
  ['db/creds', 'read'],
  [`nomad/jobs/${JOB_ID}/${GROUP}/${TASK}`, 'read'],
];

const JOB_POLICY = `
namespace "default" {
  policy = "read"
  variables {
    path "shared/*" { capabilities = ["read"] }
    path "shared/admin/*" { capabilities = ["deny"] }
  }
}
node { policy = "read" }
`;
const GROUP_POLICY = `
namespace "default" {
  capabilities = ["read-logs"]
  variables {
    path "cache/*" { capabilities = ["read", "list"] }
  }
}
`;
const TASK_POLICY = `
namespace "default" {
  variables {
    path "db/creds" { capabilities = ["read"] }
    path "db/*" { capabilities = ["list"] }
  }
}
`;

function policy(name: string, rules: string, jobAcl: JobAcl): AclPolicy {
  return { Name: name, Description: '', Rules: rules, JobACL: jobAcl, CreateIndex: 0, ModifyIndex: 0 };
}

function jobAcl(jobId: string, group = '', task = ''): JobAcl {
  return { Namespace: 'default', JobID: jobId, Group: group, Task: task };
}

/** The policies that apply to the benchmark's workload, and those of other jobs, which must not. */
function benchPolicies(): AclPolicy[] {
  const others = Array.from({ length: OTHER_JOBS }, (_, i) =>
    policy(`other-${i}`, JOB_POLICY, jobAcl(`other-job-${i}`)),
  );
  return [
    policy('bench-job', JOB_POLICY, jobAcl(JOB_ID)),
    policy('bench-group', GROUP_POLICY, jobAcl(JOB_ID, GROUP)),
    policy('bench-task', TASK_POLICY, jobAcl(JOB_ID, GROUP, TASK)),
    ...others,
  ];
}

function applyEntry(store: StateStore, command: Command): void {
  const result = store.apply(store.latestIndex + 1, encodeCommand(command));
  if (!result.ok) throw new Error(`benchmark entry ${command.type} rejected: ${result.message}`);
}

/** Builds a follower's state and returns it with the workload identities of its allocations. */
async function followerState(kek: Buffer, allocs = ALLOCS): Promise<{ store: StateStore; tokens: string[] }> {
  const rootKey = generateRootKey(T0);
  const node = benchNode('client-1', 1_000_000, 1_000_000);
  const job = benchJob(JOB_ID, allocs);
  const ctx: SignAllocationsContext = {
    job: (namespace, id) => (namespace === job.Namespace && id === job.ID ? job : null),
    key: deriveSigningKey(rootKey.meta.KeyID, rootKey.material),
    region: 'global',
    issuer: null,
    now: Date.now(),
  };
  const placed = Array.from({ length: allocs }, (_, i) => benchPlacement(job, node, i));
  const signed = await signAllocations(placed, ctx);

  const store = new StateStore();
  store.advanceTo(1);
  const { KeyID, Algorithm, CreateTime } = rootKey.meta;
  const wrappedKey = Buffer.from(wrapRootKey(kek, KeyID, rootKey.material)).toString('base64');
  applyEntry(store, {
    type: 'root-key-upsert',
    v: 1,
    key: { KeyID, Algorithm, CreateTime },
    wrappedKey,
    demoteTo: 'inactive',
  });
  applyEntry(store, { type: 'node-register', v: 1, node });
  applyEntry(store, { type: 'job-register', v: 1, job, eval: null });
  applyEntry(store, { type: 'plan-apply', v: 2, place: signed, stop: [], evals: [], time: T0 });
  applyEntry(store, { type: 'acl-policy-upsert', v: 1, policies: benchPolicies() });
  return { store, tokens: signed.map((alloc) => alloc.SignedIdentities[TASK]!) };
}

/** One server's request path, wired as ClusterOperations wires it. */
class RequestPath {
  readonly #store: StateStore;
  readonly #authenticator: Authenticator;
  #resolver: AclResolver;

  constructor(store: StateStore, kek: Buffer) {
    const logger = pino({ level: 'silent' });
    this.#store = store;
    const keyring = new ServerKeyring({ state: store, kek, logger });
    this.#authenticator = new Authenticator({
      state: store,
      keyring,
      aclEnabled: true,
      now: Date.now,
      logger,
    });
    this.#resolver = this.#newResolver();
  }

  /** Drops the resolver with its caches of parsed policies and compiled ACLs. */
  resetResolver(): void {
    this.#resolver = this.#newResolver();
  }

  async resolve(token: string): Promise<ResolvedAcl> {
    const principal = await this.#authenticator.authenticate(token);
    await this.#resolver.prepare(principal);
    return this.#resolver.resolve(principal);
  }

  /** Runs one request: resolution, then check `i` of CHECKS. Throws when the check denies. */
  async decide(token: string, i: number): Promise<void> {
    allowOrThrow(await this.resolve(token), i);
  }

  #newResolver(): AclResolver {
    return new AclResolver({ state: this.#store, enabled: true, now: Date.now });
  }
}

function allowOrThrow({ acl, workload }: ResolvedAcl, i: number): void {
  const [path, capability] = CHECKS[i % CHECKS.length]!;
  if (!acl.allowVariableOperation('default', path, capability, workload)) {
    throw new Error(
      `benchmark decision denied ${capability} on ${path}; the resolver missed a policy tied to the job, group or task`,
    );
  }
}

/** Median over RUNS of `count` resolutions per second, each timed alone after its `before` step. */
async function timedRuns(
  count: number,
  run: (i: number) => Promise<void>,
  before: (i: number) => void = () => {},
  runs = RUNS,
): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    let elapsedMs = 0;
    for (let i = 0; i < count; i++) {
      before(i);
      const started = performance.now();
      await run(i);
      elapsedMs += performance.now() - started;
    }
    rates.push(count / (elapsedMs / 1000));
  }
  return Math.round(median(rates));
}

/** Sizes of {@link measureAclDecisions}. */
export interface AclDecisionSizes {
  /** Allocations of the benchmark job, hence distinct workload identities. */
  readonly allocs: number;
  readonly runs: number;
  /** allowVariableOperation calls timed for the decision alone. */
  readonly decisions: number;
}

/** Rates of the cached request path and of the decision alone, for the benchmark table. */
export interface AclDecisionRates {
  readonly sizes: AclDecisionSizes;
  readonly policies: number;
  /** Token to decision per second with warm caches, the Authenticator's verified-token cache included. */
  readonly cachedResolutions: number;
  /** allowVariableOperation calls per second on one resolved workload ACL. */
  readonly decisionsAlone: number;
}

/** Measures the cached request path over every workload identity, then the decision alone, as median rates of `runs`. */
export async function measureAclDecisions(sizes: AclDecisionSizes): Promise<AclDecisionRates> {
  const kek = keyEncryptionKey(randomBytes(32));
  const { store, tokens } = await followerState(kek, sizes.allocs);
  const path = new RequestPath(store, kek);
  const warmup = Math.min(200, sizes.allocs);
  for (let i = 0; i < warmup; i++) await path.decide(tokens[i]!, i);
  // A request's token is a new string, whose hash V8 has not computed yet, so each decision gets
  // a copy made outside the timing.
  let request = '';
  const cachedResolutions = await timedRuns(
    sizes.allocs,
    (i) => path.decide(request, i),
    (i) => {
      request = Buffer.from(tokens[i]!, 'latin1').toString('latin1');
    },
    sizes.runs,
  );
  const resolved = await path.resolve(tokens[0]!);
  for (let i = 0; i < sizes.decisions / 10; i++) allowOrThrow(resolved, i);
  const rates: number[] = [];
  for (let r = 0; r < sizes.runs; r++) {
    const started = performance.now();
    for (let i = 0; i < sizes.decisions; i++) allowOrThrow(resolved, i);
    rates.push(sizes.decisions / ((performance.now() - started) / 1000));
  }
  return {
    sizes,
    policies: OTHER_JOBS + 3,
    cachedResolutions,
    decisionsAlone: Math.round(median(rates)),
  };
}

export async function runAclResolveBench(): Promise<string[]> {
  const kek = keyEncryptionKey(randomBytes(32));
  const { store, tokens } = await followerState(kek);
  const path = new RequestPath(store, kek);
  // Warms the keyring, the HCL library and both caches outside the timing.
  for (let i = 0; i < 200; i++) await path.decide(tokens[i]!, i);

  const cached = await timedRuns(ALLOCS, (i) => path.decide(tokens[i]!, i));

  const fresh = await timedRuns(FRESH_RESOLVER_TOKENS, async (i) => {
    path.resetResolver();
    await path.decide(tokens[i]!, i);
  });

  path.resetResolver();
  let version = 0;
  const changed = await timedRuns(
    ALLOCS,
    (i) => path.decide(tokens[i]!, i),
    () => {
      version++;
      const rules = `${JOB_POLICY}# version ${version}\n`;
      applyEntry(store, {
        type: 'acl-policy-upsert',
        v: 1,
        policies: [policy('other-0', rules, jobAcl('other-job-0'))],
      });
    },
  );

  const resolved = await path.resolve(tokens[0]!);
  for (let i = 0; i < DECISIONS / 10; i++) allowOrThrow(resolved, i);
  const started = performance.now();
  for (let i = 0; i < DECISIONS; i++) allowOrThrow(resolved, i);
  const decisions = Math.round(DECISIONS / ((performance.now() - started) / 1000));

  const setup = `workload identity to allowVariableOperation on a follower's StateStore (${ALLOCS} allocations, ${OTHER_JOBS + 3} policies), 3 policies tied to job, group and task, one core`;
  return [
    `acl resolve cached, ${setup}, median of ${RUNS} runs: ${cached} resolutions/s`,
    `acl resolve uncached (fresh resolver per token: 3 policies parsed and compiled), median of ${RUNS} runs of ${FRESH_RESOLVER_TOKENS}: ${fresh} resolutions/s`,
    `acl resolve uncached (an unrelated policy changed by a Raft entry before each token: compiled again, parsed policies kept), median of ${RUNS} runs: ${changed} resolutions/s`,
    `acl resolve decision alone, allowVariableOperation on a resolved workload ACL (exact, glob and implicit paths): ${decisions} checks/s`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runAclResolveBench()) console.log(line);
}
