import { type AclDecisionSizes, measureAclDecisions } from './acl-resolve.js';
import type { Benchmark } from './harness/benchmark.js';
import { makeRow } from './harness/row.js';

const FULL_SIZES: AclDecisionSizes = { allocs: 2_000, runs: 5, decisions: 1_000_000 };
const QUICK_SIZES: AclDecisionSizes = { allocs: 50, runs: 1, decisions: 10_000 };

/**
 * ACL decisions for workload identities on a follower's state, in one process on one core, as
 * bench/acl-resolve.ts wires the request path. The first row times the whole path from token to
 * decision with every cache warm. It still verifies the token's Ed25519 signature on each call,
 * because Signet keeps no cache of verified tokens. The second row times the decision alone on an
 * ACL resolved once.
 */
export const aclBenchmark: Benchmark = {
  name: 'acl',
  description: 'ACL decisions/s for workload identities on a follower, token to decision and decision alone',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    context.progress(
      `resolving ${sizes.allocs} workload identities ${sizes.runs}×, then ${sizes.decisions} decisions on one ACL`,
    );
    const rates = await measureAclDecisions(sizes);
    context.progress(`${rates.cachedResolutions} resolutions/s, ${rates.decisionsAlone} decisions/s alone`);
    const raw = { ...rates };
    return [
      makeRow({
        figure:
          'ACL decisions/s for workload identities on a follower, cached: token to decision, caches warm',
        unit: 'decisions/s',
        signet: rates.cachedResolutions,
        target: { kind: 'at-least', value: 200_000 },
        note: 'bounded by one Ed25519 verification per call, because Signet has no verified-token cache',
        raw,
      }),
      makeRow({
        figure: 'ACL decision alone on a resolved workload ACL (allowVariableOperation)',
        unit: 'decisions/s',
        signet: rates.decisionsAlone,
        raw,
      }),
    ];
  },
};
