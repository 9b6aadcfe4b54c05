import { randomBytes, sign, verify } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { type SignAllocationsContext, signAllocations } from '../src/identity/index.js';
import { DEFAULT_VERIFIED_TOKEN_CACHE_SIZE } from '../src/identity/verified-token-cache.js';
import {
  deriveSigningKey,
  generateRootKey,
  keyEncryptionKey,
  type RootKey,
  type SigningKey,
  wrapRootKey,
} from '../src/keyring/index.js';
import { Authenticator } from '../src/server/keyring/authenticator.js';
import { ServerKeyring } from '../src/server/keyring/server-keyring.js';
import { encodeCommand } from '../src/state/commands.js';
import { StateStore } from '../src/state/store.js';
import type { Allocation } from '../src/structs/allocation.js';
import type { Job } from '../src/structs/job.js';
import type { Node } from '../src/structs/node.js';
import { benchJob, benchNode, benchPlacement, median, T0 } from './fixtures.js';
import { type OpensslRates, opensslEd25519Rates } from './openssl-speed.js';

/**
 * Workload identities per second, in one process, beside the machine's raw Ed25519 rate:
 * - signing: signAllocations over a plan of PLAN_ALLOCS one-task allocations, as the plan applier
 *   calls it before it writes the plan's entry, with the event loop's longest delay meanwhile;
 * - verification: every token through a follower's request path (Authenticator, ServerKeyring
 *   unwrapping the root key from the state, verifyWorkloadIdentity), one at a time, against a
 *   StateStore that applied the root key and the signed plan as Raft entries. The Authenticator's
 *   cache of verified tokens is off for this pass. Then one token again and again, cache on;
 * - `openssl speed -seconds OPENSSL_SECONDS ed25519` (one core) and node:crypto's bare
 *   sign and verify of a token-sized input, for the ratios.
 */
const PLAN_ALLOCS = 5_000;
const RAW_OPS = 5_000;
const OPENSSL_SECONDS = 2;

/** Sizes of one identity measurement; `runIdentityBench` uses DEFAULT_SIZES. */
export interface IdentitySizes {
  readonly planAllocs: number;
  /** Allocations signed and tokens verified before timing, so that the JIT has compiled the path. */
  readonly warmupAllocs: number;
  readonly signRuns: number;
  readonly verifyRuns: number;
  readonly rawOps: number;
  readonly opensslSeconds: number;
}

const DEFAULT_SIZES: IdentitySizes = {
  planAllocs: PLAN_ALLOCS,
  warmupAllocs: 500,
  signRuns: 3,
  verifyRuns: 2,
  rawOps: RAW_OPS,
  opensslSeconds: OPENSSL_SECONDS,
};

/** Rates measured by `measureIdentity`, all per second. */
export interface IdentityRates {
  readonly sizes: IdentitySizes;
  readonly signRate: number;
  readonly signMaxDelayMs: number;
  /** Every token of the plan verified once each. */
  readonly verifyRate: number;
  /** One token verified again and again, served by the Authenticator's cache of verified tokens. */
  readonly verifySameTokenRate: number;
  readonly nodeCrypto: { readonly sign: number; readonly verify: number };
  /** openssl's rates, or a sentence saying why there are none. */
  readonly openssl: OpensslRates | string;
}

/** Bare node:crypto rates over a token-sized input, the ceiling without any JWS work. */
function nodeCryptoRates(key: SigningKey, token: string, ops: number): { sign: number; verify: number } {
  const dot = token.lastIndexOf('.');
  const input = Buffer.from(token.slice(0, dot));
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const rate = (run: () => void): number => {
    for (let i = 0; i < ops / 10; i++) run();
    const started = performance.now();
    for (let i = 0; i < ops; i++) run();
    return Math.round(ops / ((performance.now() - started) / 1000));
  };
  return {
    sign: rate(() => sign(null, input, key.privateKey)),
    verify: rate(() => {
      if (!verify(null, input, key.publicKey, signature))
        throw new Error('benchmark signature did not verify');
    }),
  };
}

/** Signs the plan `sizes.signRuns` times and returns the median rate, the signed plan and the longest loop delay. */
async function benchSigning(
  allocs: readonly Allocation[],
  ctx: SignAllocationsContext,
  sizes: IdentitySizes,
): Promise<{ rate: number; signed: Allocation[]; maxDelayMs: number }> {
  await signAllocations(allocs.slice(0, sizes.warmupAllocs), ctx);
  const rates: number[] = [];
  let signed: Allocation[] = [];
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  for (let run = 0; run < sizes.signRuns; run++) {
    const started = performance.now();
    signed = await signAllocations(allocs, ctx);
    rates.push(allocs.length / ((performance.now() - started) / 1000));
  }
  delay.disable();
  return { rate: Math.round(median(rates)), signed, maxDelayMs: delay.max / 1e6 };
}

/**
 * Verifies every token as a follower does for a request: the Authenticator, with the ServerKeyring
 * unwrapping the root key from the follower's state, `runs` times. Returns the median rate.
 * `cacheSize` is the Authenticator's verifiedTokenCacheSize, 0 to check every signature.
 */
async function benchVerifying(
  store: StateStore,
  kek: Buffer,
  tokens: readonly string[],
  warmup: number,
  runs: number,
  cacheSize: number,
): Promise<number> {
  const logger = pino({ level: 'silent' });
  const keyring = new ServerKeyring({ state: store, kek, logger });
  const authenticator = new Authenticator({
    state: store,
    keyring,
    now: Date.now,
    logger,
    verifiedTokenCacheSize: cacheSize,
  });
  for (const token of tokens.slice(0, warmup)) await authenticator.authenticate(token);
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    // A request's token is a new string, whose hash V8 has not computed yet, so no run reuses one.
    const requests = tokens.map(freshCopy);
    const started = performance.now();
    for (const token of requests) await authenticator.authenticate(token);
    rates.push(tokens.length / ((performance.now() - started) / 1000));
  }
  return Math.round(median(rates));
}

function freshCopy(token: string): string {
  return Buffer.from(token, 'latin1').toString('latin1');
}

/** Returns a follower's state: the root key, the node, the job and the signed plan, applied as Raft entries. */
function followerState(
  rootKey: RootKey,
  kek: Buffer,
  node: Node,
  job: Job,
  signed: readonly Allocation[],
): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  const { KeyID, Algorithm, CreateTime } = rootKey.meta;
  const wrappedKey = Buffer.from(wrapRootKey(kek, KeyID, rootKey.material)).toString('base64');
  const entries = [
    encodeCommand({
      type: 'root-key-upsert',
      v: 1,
      key: { KeyID, Algorithm, CreateTime },
      wrappedKey,
      demoteTo: 'inactive',
    }),
    encodeCommand({ type: 'node-register', v: 1, node }),
    encodeCommand({ type: 'job-register', v: 1, job, eval: null }),
    encodeCommand({ type: 'plan-apply', v: 2, place: signed, stop: [], evals: [], time: T0 }),
  ];
  for (const data of entries) {
    const result = store.apply(store.latestIndex + 1, data);
    if (!result.ok) throw new Error(`benchmark entry rejected: ${result.message}`);
  }
  return store;
}

function ratio(rate: number, reference: number): string {
  return `${(rate / reference).toFixed(2)}x`;
}

/** Measures signing and verification with `sizes`, and runs `openssl speed` for the reference rates. */
export async function measureIdentity(sizes: IdentitySizes = DEFAULT_SIZES): Promise<IdentityRates> {
  const rootKey = generateRootKey(T0);
  const key = deriveSigningKey(rootKey.meta.KeyID, rootKey.material);
  const kek = keyEncryptionKey(randomBytes(32));
  const node = benchNode('client-1', 1_000_000, 1_000_000);
  const job = benchJob('identity-bench', sizes.planAllocs);
  const allocs = Array.from({ length: sizes.planAllocs }, (_, i) => benchPlacement(job, node, i));
  const ctx: SignAllocationsContext = {
    job: (namespace, id) => (namespace === job.Namespace && id === job.ID ? job : null),
    key,
    region: 'global',
    issuer: null,
    now: Date.now(),
  };

  const signing = await benchSigning(allocs, ctx, sizes);
  const tokens = signing.signed.map((alloc) => alloc.SignedIdentities.server!);
  const store = followerState(rootKey, kek, node, job, signing.signed);
  const verifyRate = await benchVerifying(store, kek, tokens, sizes.warmupAllocs, sizes.verifyRuns, 0);
  const sameToken = tokens.map(() => tokens[0]!);
  const verifySameTokenRate = await benchVerifying(
    store,
    kek,
    sameToken,
    sizes.warmupAllocs,
    sizes.verifyRuns,
    DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
  );
  return {
    sizes,
    signRate: signing.rate,
    signMaxDelayMs: signing.maxDelayMs,
    verifyRate,
    verifySameTokenRate,
    nodeCrypto: nodeCryptoRates(key, tokens[0]!, sizes.rawOps),
    openssl: opensslEd25519Rates(sizes.opensslSeconds),
  };
}

export async function runIdentityBench(): Promise<string[]> {
  const { sizes, signRate, signMaxDelayMs, verifyRate, nodeCrypto: raw, openssl } = await measureIdentity();
  const signLine = `identity sign: signAllocations, ${sizes.planAllocs} one-task allocations, median of ${sizes.signRuns} runs: ${signRate} identities/s, longest event-loop delay ${signMaxDelayMs.toFixed(1)} ms`;
  const verifyLine = `identity verify: a follower's Authenticator and keyring over a StateStore of ${sizes.planAllocs} allocations, one at a time, median of ${sizes.verifyRuns} runs: ${verifyRate} verifications/s`;
  const rawLine = `identity ed25519 node:crypto, token-sized input: sign ${raw.sign} ops/s, verify ${raw.verify} ops/s; identities reach ${ratio(signRate, raw.sign)} and ${ratio(verifyRate, raw.verify)} of them`;
  if (typeof openssl === 'string') {
    return [signLine, verifyLine, rawLine, `identity ed25519 openssl speed: ${openssl}`];
  }
  return [
    `${signLine} (${ratio(signRate, openssl.sign)} of openssl sign)`,
    `${verifyLine} (${ratio(verifyRate, openssl.verify)} of openssl verify)`,
    rawLine,
    `identity ed25519 openssl speed -seconds ${sizes.opensslSeconds}, one core: sign ${openssl.sign} ops/s, verify ${openssl.verify} ops/s`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await runIdentityBench()) console.log(line);
}
