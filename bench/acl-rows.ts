import { type AclDecisionSizes, measureAclDecisions } from './acl-resolve.js';
import type { Benchmark } from './harness/benchmark.js';
import { makeRow } from './harness/row.js';

const FULL_SIZES: AclDecisionSizes = { allocs: 2_000, runs: 25, decisions: 1_000_000 };
const QUICK_SIZES: AclDecisionSizes = { allocs: 50, runs: 1, decisions: 10_000 };

/**
 * ACL decisions for workload identities on a follower's state, in one process on one core, as
 * bench/acl-resolve.ts wires the request path. The first row times the whole path from token to
 * decision with every cache warm: each token's signature was checked once, and each request still
 * checks the key, the time claims, the allocation and the policies. The second row times the
 * decision alone on an ACL resolved once. A full run takes 25 runs of 2,000 decisions, about 10 ms
 * each, because the median of fewer such short runs moved by 2× between runs on a loaded 2-core
 * machine.
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
        note: 'verified-token cache and workload ACL cache warm; a new token string per request',
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
