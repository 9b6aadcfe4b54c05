import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  type Acl,
  compileAcl,
  type NamespaceCapability,
  type Policy,
  PolicyParserThread,
  parsePolicy,
  type VariableCapability,
  type WorkloadScope,
} from '../src/acl/index.js';
import { MAX_ACL_RULES_BYTES } from '../src/state/limits.js';

/**
 * Cost of the ACL language alone, in one process: parsing policy text, compiling 10 parsed
 * policies into one ACL, and the two checks that every namespaced request and every variable
 * access make. Checks cycle through exact, glob, implicit and missing targets, so the figure is a
 * mix rather than the best case. A policy of MAX_ACL_RULES_BYTES is then parsed on the main thread
 * and on the parser worker thread, with the longest event-loop delay of the main thread during
 * the parses.
 */
const POLICIES = 10;
const PARSE_RUNS = 200;
const LARGE_PARSE_RUNS = 5;
/** Sampling interval of the event-loop delay monitor, the smallest it takes. */
const DELAY_RESOLUTION_MS = 1;
const COMPILE_RUNS = 5_000;
const CHECKS = 1_000_000;
const WARMUP = 10_000;

/** Builds a team's policy text: its namespaces by glob and by name, and variables rules of each kind. */
function policyText(team: number): string {
  return `
namespace "team-${team}-*" {
  policy = "write"
  variables {
    path "apps/*" { capabilities = ["read", "write", "list"] }
    path "apps/team-${team}/secret" { capabilities = ["deny"] }
    path "shared/*" { capabilities = ["read"] }
  }
}
namespace "team-${team}" {
  policy = "read"
  capabilities = ["alloc-exec", "read-logs"]
  variables {
    path "config/db" { capabilities = ["read"] }
    path "config/*" { capabilities = ["list"] }
    path "nomad/jobs/*" { capabilities = ["deny"] }
  }
}
namespace "shared-${team}" {
  capabilities = ["list-jobs"]
}
agent { policy = "read" }
node { policy = "read" }
`;
}

function rate(ops: number, elapsedMs: number): number {
  return Math.round(ops / (elapsedMs / 1000));
}

function measure(ops: number, run: (i: number) => void): number {
  for (let i = 0; i < WARMUP; i++) run(i);
  const started = performance.now();
  for (let i = 0; i < ops; i++) run(i);
  return rate(ops, performance.now() - started);
}

const NAMESPACE_CHECKS: readonly [string, NamespaceCapability][] = [
  ['team-3', 'read-job'], // exact label
  ['team-3-prod', 'submit-job'], // glob label
  ['team-9-staging-eu', 'alloc-exec'], // glob label
  ['other', 'read-job'], // no rule
  ['shared-4', 'list-jobs'], // exact label
];

const WORKLOAD: WorkloadScope = { namespace: 'team-2', jobId: 'web', group: 'frontend', task: 'nginx' };
const VARIABLE_CHECKS: readonly [string, string, VariableCapability][] = [
  ['team-2', 'config/db', 'read'], // exact rule
  ['team-2', 'nomad/jobs/web/frontend/nginx', 'read'], // implicit path
  ['team-2', 'config/cache', 'list'], // glob rule
  ['team-5-prod', 'apps/team-5/secret', 'read'], // exact path, glob namespace
  ['team-7-dev', 'shared/tls/cert', 'read'], // glob rule
  ['other', 'anything', 'read'], // no rule
];

/** Builds rules of at most `bytes` bytes from namespace blocks with a variables path each. */
function largePolicyText(bytes: number): string {
  let text = '';
  for (let i = 0; ; i++) {
    const block = `namespace "team-${i}" {\n  policy = "write"\n  variables {\n    path "apps/team-${i}/*" { capabilities = ["read", "list"] }\n  }\n}\n`;
    if (text.length + block.length > bytes) return text;
    text += block;
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Parses a policy of MAX_ACL_RULES_BYTES LARGE_PARSE_RUNS times on the main thread and as many
 * times on a parser worker thread. Returns the median parse times and, for each thread, the
 * maximum event-loop delay of the main thread over all of its runs, next to that of an idle loop.
 */
async function measureLargeParse(): Promise<string[]> {
  const rules = largePolicyText(MAX_ACL_RULES_BYTES);
  const bytes = Buffer.byteLength(rules, 'utf8');
  const delay = monitorEventLoopDelay({ resolution: DELAY_RESOLUTION_MS });

  const onThreadMs: number[] = [];
  delay.enable();
  for (let run = 0; run < LARGE_PARSE_RUNS; run++) {
    const started = performance.now();
    parsePolicy(rules, 'strict');
    onThreadMs.push(performance.now() - started);
    // Lets the monitor's timer fire, so that the delay of this parse is recorded.
    await new Promise((resolve) => setTimeout(resolve, 5 * DELAY_RESOLUTION_MS));
  }
  delay.disable();
  const onThreadDelayMs = delay.max / 1e6;

  const thread = new PolicyParserThread();
  let started = performance.now();
  await thread.parse('agent { policy = "read" }', 'strict');
  const startMs = performance.now() - started;
  const offThreadMs: number[] = [];
  delay.reset();
  delay.enable();
  for (let run = 0; run < LARGE_PARSE_RUNS; run++) {
    started = performance.now();
    await thread.parse(rules, 'strict');
    offThreadMs.push(performance.now() - started);
  }
  delay.disable();
  const offThreadDelayMs = delay.max / 1e6;
  await thread.close();

  // The same monitor on an idle main thread for as long, because other processes on the machine
  // delay the loop too, and the off-thread figure means something only next to this one.
  const offThreadTotalMs = offThreadMs.reduce((sum, ms) => sum + ms, 0);
  delay.reset();
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, offThreadTotalMs));
  delay.disable();
  const idleDelayMs = delay.max / 1e6;

  return [
    `acl parse policy of ${bytes} bytes on the main thread: ${median(onThreadMs).toFixed(1)} ms ` +
      `(median of ${LARGE_PARSE_RUNS}), main-thread max event-loop delay ${onThreadDelayMs.toFixed(1)} ms`,
    `acl parse policy of ${bytes} bytes off-thread: ${median(offThreadMs).toFixed(1)} ms ` +
      `(median of ${LARGE_PARSE_RUNS}), main-thread max event-loop delay ${offThreadDelayMs.toFixed(1)} ms`,
    `acl idle main thread for ${offThreadTotalMs.toFixed(0)} ms: max event-loop delay ${idleDelayMs.toFixed(1)} ms`,
    `acl parser worker start, through its first parse: ${startMs.toFixed(0)} ms`,
  ];
}

export async function runAclBench(): Promise<string[]> {
  const texts = Array.from({ length: POLICIES }, (_, team) => policyText(team));
  parsePolicy(texts[0]!, 'strict'); // loads the HCL library, about 0.1 s, outside the timing

  let started = performance.now();
  let policies: Policy[] = [];
  for (let run = 0; run < PARSE_RUNS / POLICIES; run++)
    policies = texts.map((text) => parsePolicy(text, 'lenient'));
  const parseRate = rate(PARSE_RUNS, performance.now() - started);

  let acl: Acl = compileAcl(policies);
  started = performance.now();
  for (let run = 0; run < COMPILE_RUNS; run++) acl = compileAcl(policies);
  const compileMs = (performance.now() - started) / COMPILE_RUNS;

  let allowed = 0;
  const namespaceRate = measure(CHECKS, (i) => {
    const [namespace, capability] = NAMESPACE_CHECKS[i % NAMESPACE_CHECKS.length]!;
    if (acl.allowNamespaceOperation(namespace, capability)) allowed++;
  });
  const variableRate = measure(CHECKS, (i) => {
    const [namespace, path, capability] = VARIABLE_CHECKS[i % VARIABLE_CHECKS.length]!;
    if (acl.allowVariableOperation(namespace, path, capability, WORKLOAD)) allowed++;
  });
  // Keeps the checks observable so that the compiler cannot drop them.
  if (allowed === 0) throw new Error('benchmark checks allowed nothing; the policies are wrong');

  return [
    `acl parse policy (HCL, ${texts[0]!.length} bytes): ${parseRate} policies/s`,
    `acl compile ${POLICIES} parsed policies: ${compileMs.toFixed(3)} ms each (${rate(1, compileMs)} compiles/s)`,
    `acl allowNamespaceOperation, mix of exact, glob and missing: ${namespaceRate} checks/s`,
    `acl allowVariableOperation, mix of exact, implicit, glob and missing: ${variableRate} checks/s`,
    ...(await measureLargeParse()),
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runAclBench()) console.log(line);
}
