import type { Benchmark } from './harness/benchmark.js';
import { makeRow } from './harness/row.js';
import { runChild } from './load/child.js';
import type { StateRssConfig, StateRssResult } from './state-rss-child.js';

const FULL: StateRssConfig = { allocs: 100_000, variables: 10_000 };
const QUICK: StateRssConfig = { allocs: 1_000, variables: 100 };
const MB = 1024 * 1024;

/**
 * Memory of a server's replicated state. A child process applies the Raft commands of the
 * allocations (100 nodes, 100 jobs, running task states) and of the variables to a StateStore, and
 * reads its RSS after a full collection. The child contains the state store only, without the Raft
 * log, LevelDB or HTTP server of an agent, so the row names it and reports its RSS when empty.
 */
export const stateRssBenchmark: Benchmark = {
  name: 'state-rss',
  description: 'RSS of a StateStore process holding 100,000 allocations and 10,000 variables',
  async run(context) {
    const config = context.quick ? QUICK : FULL;
    context.progress(
      `applying ${config.allocs} allocations and ${config.variables} variables in a child process`,
    );
    const result = await runChild<StateRssResult>('../state-rss-child.ts', config, 120_000);
    const perAlloc = Math.round((result.withAllocs.rss - result.empty.rss) / result.allocs);
    const heapPerAlloc = Math.round((result.withAllocs.heapUsed - result.empty.heapUsed) / result.allocs);
    context.progress(
      `RSS ${(result.withVariables.rss / MB).toFixed(0)} MB, ${perAlloc} bytes per allocation`,
    );
    const size = `${config.allocs.toLocaleString('en-US')} allocations and ${config.variables.toLocaleString('en-US')} variables`;
    const raw = { ...result };
    return [
      makeRow({
        figure: `server RSS with ${size} in state (StateStore in a child process, no Raft log or HTTP)`,
        unit: 'bytes',
        signet: result.withVariables.rss,
        note: `${(result.withVariables.rss / MB).toFixed(0)} MB; ${(result.empty.rss / MB).toFixed(0)} MB with an empty state`,
        raw,
      }),
      makeRow({
        figure: 'server RSS per allocation in state (RSS growth ÷ allocations)',
        unit: 'bytes',
        signet: perAlloc,
        note: `JS heap: ${heapPerAlloc} bytes per allocation`,
        raw,
      }),
    ];
  },
};
