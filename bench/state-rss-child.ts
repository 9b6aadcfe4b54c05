import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { generateRootKey, keyEncryptionKey, wrapRootKey } from '../src/keyring/index.js';
import { type Command, encodeCommand } from '../src/state/commands.js';
import { StateStore } from '../src/state/store.js';
import type { Allocation } from '../src/structs/allocation.js';
import { benchJob, benchNode, T0 } from './fixtures.js';
import { allocation } from './state.js';

/**
 * Child process of bench/state-rss.ts: it builds a server's replicated state by applying Raft
 * commands to a StateStore, as a follower applies them, and prints its RSS and heap before and
 * after as one JSON line. Each reading follows a full collection, so the RSS reflects what the
 * state uses rather than garbage not yet collected.
 */
export interface StateRssConfig {
  readonly allocs: number;
  readonly variables: number;
}

export interface RssReading {
  readonly rss: number;
  readonly heapUsed: number;
}

export interface StateRssResult {
  readonly nodes: number;
  readonly jobs: number;
  readonly allocs: number;
  readonly variables: number;
  readonly empty: RssReading;
  readonly withAllocs: RssReading;
  readonly withVariables: RssReading;
}

const NODES = 100;
const JOBS = 100;
/** Allocations per plan-apply entry, so no one entry contains the whole state. */
const PLAN_ALLOCS = 10_000;
/** Bytes of a variable's Data before base64: nonce, tag and about 80 bytes of items. */
const VARIABLE_DATA_BYTES = 108;

// runChild starts Node.js without --expose-gc, so the flag is set here, before a context exists that exposes gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function reading(): RssReading {
  gc();
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

function apply(store: StateStore, command: Command): void {
  const result = store.apply(store.latestIndex + 1, encodeCommand(command));
  if (!result.ok) throw new Error(`benchmark entry ${command.type} rejected: ${result.message}`);
}

function build(allocs: number, variables: number): StateRssResult {
  const store = new StateStore();
  store.advanceTo(1);
  const empty = reading();

  const nodes = Array.from({ length: NODES }, (_, i) => benchNode(`client-${i}`, 64_000, 262_144));
  for (const node of nodes) apply(store, { type: 'node-register', v: 1, node });
  const perJob = Math.ceil(allocs / JOBS);
  for (let j = 0; j < JOBS; j++) {
    apply(store, { type: 'job-register', v: 1, job: benchJob(`job-${j}`, perJob), eval: null });
  }
  let place: Allocation[] = [];
  for (let i = 0; i < allocs; i++) {
    place.push(allocation(`job-${i % JOBS}`, Math.floor(i / JOBS), nodes));
    if (place.length === PLAN_ALLOCS || i === allocs - 1) {
      apply(store, { type: 'plan-apply', v: 2, place, stop: [], evals: [], time: T0 });
      place = [];
    }
  }
  const withAllocs = reading();

  const rootKey = generateRootKey(T0);
  const { KeyID, Algorithm, CreateTime } = rootKey.meta;
  const kek = keyEncryptionKey(randomBytes(32));
  const wrappedKey = Buffer.from(wrapRootKey(kek, KeyID, rootKey.material)).toString('base64');
  apply(store, {
    type: 'root-key-upsert',
    v: 1,
    key: { KeyID, Algorithm, CreateTime },
    wrappedKey,
    demoteTo: 'inactive',
  });
  for (let i = 0; i < variables; i++) {
    apply(store, {
      type: 'var-apply',
      v: 1,
      op: 'set',
      variable: {
        Namespace: 'default',
        Path: `apps/app-${i % 100}/config-${i}`,
        KeyID,
        Data: randomBytes(VARIABLE_DATA_BYTES).toString('base64'),
        ModifyTime: T0,
      },
      casIndex: 0,
    });
  }
  const withVariables = reading();
  const stored = store.allocations().length;
  if (stored !== allocs) throw new Error(`state contains ${stored} allocations, expected ${allocs}`);
  return { nodes: NODES, jobs: JOBS, allocs, variables, empty, withAllocs, withVariables };
}

const config = JSON.parse(process.argv[2] ?? '{}') as StateRssConfig;
if (!Number.isInteger(config.allocs) || !Number.isInteger(config.variables)) {
  throw new Error('usage: state-rss-child \'{"allocs":N,"variables":N}\'');
}
console.log(JSON.stringify(build(config.allocs, config.variables)));
