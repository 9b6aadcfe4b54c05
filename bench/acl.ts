import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  type Acl,
  compileAcl,
  type NamespaceCapability,
  type Policy,
  parsePolicy,
  type VariableCapability,
  type WorkloadScope,
} from '../src/acl/index.js';

/**
 * Cost of the ACL language alone, in one process: parsing policy text, compiling 10 parsed
 * policies into one ACL, and the two checks that every namespaced request and every variable
 * access make. Checks cycle through exact, glob, implicit and missing targets, so the figure is a
 * mix rather than the best case.
 */
const POLICIES = 10;
const PARSE_RUNS = 200;
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

export function runAclBench(): string[] {
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
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of runAclBench()) console.log(line);
}
