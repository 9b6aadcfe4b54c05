import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import pino from 'pino';
import { type IdentityClaims, IdentityError, identityClaims } from '../../src/identity/index.js';
import { type CachedVerifyOptions, VerifiedTokenCache } from '../../src/identity/verified-token-cache.js';
import type { SigningKey } from '../../src/keyring/index.js';
import { Authenticator } from '../../src/server/keyring/authenticator.js';
import { ServerKeyring } from '../../src/server/keyring/server-keyring.js';
import type { StateStore } from '../../src/state/store.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  FakeTimers,
  newKek,
  placeSignedAllocs,
  setClientStatus,
  T0_MS,
} from '../server/keyring/support.js';
import { makeJob } from '../state/workload-fixtures.js';

const silent = pino({ level: 'silent' });
const LEEWAY_MS = 60_000;
const HOUR_NS = 3_600_000_000_000;

interface Setup {
  readonly store: StateStore;
  readonly kek: Buffer;
  readonly keyring: ServerKeyring;
  readonly keyId: string;
  readonly cache: VerifiedTokenCache;
  readonly clock: { now: number };
  /** Verifies through the cache against the real keyring and state, at `clock.now`. */
  readonly verify: (token: string) => ReturnType<VerifiedTokenCache['verifyWorkload']>;
  /** Signs, with jose, a token for task `server` of `allocId`, with an `exp` when `ttlNs` is above 0. */
  readonly sign: (allocId: string, options?: { ttlNs?: number; now?: number }) => Promise<string>;
}

/** Builds a state with one root key and `allocs` running allocations of job `web`, from alloc-0 up. */
function setup(capacity?: number, allocs = 3): Setup {
  const store = bootstrappedStore();
  const kek = newKek();
  const keyId = addKey(store, kek);
  placeSignedAllocs(
    store,
    Array.from({ length: allocs }, () => ({ keyId, status: 'running' as const })),
  );
  const keyring = new ServerKeyring({ state: store, kek, logger: silent, timers: new FakeTimers() });
  const cache = new VerifiedTokenCache(capacity);
  const clock = { now: T0_MS };
  const job = makeJob();

  const options = (): CachedVerifyOptions => ({
    key: async (kid) => keyring.signingKey(kid),
    currentKey: (kid) => keyring.signingKey(kid),
    now: clock.now,
    allocation: (id) => store.allocation(id),
    job: (namespace, jobId) => store.job(namespace, jobId),
  });
  const sign = async (allocId: string, { ttlNs = 0, now = clock.now } = {}) => {
    const alloc = store.allocation(allocId);
    assert.ok(alloc !== null, `allocation ${allocId} is in the state`);
    const task = job.TaskGroups[0]!.Tasks[0]!;
    const claims = identityClaims({
      alloc,
      job,
      task,
      identity: { Name: 'default', Audience: [], Env: false, File: false, TTL: ttlNs },
      region: 'global',
      now,
    });
    return joseSign(keyring.signingKey(keyId)!, claims);
  };
  return {
    store,
    kek,
    keyring,
    keyId,
    cache,
    clock,
    verify: (token) => cache.verifyWorkload(token, options()),
    sign,
  };
}

/** Signs claims with jose, as any EdDSA JWT library would, with the header Signet's signer writes. */
function joseSign(key: SigningKey, claims: IdentityClaims): Promise<string> {
  return new jose.SignJWT({ ...claims, aud: [...claims.aud] })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
    .sign(key.privateKey);
}

/** Replaces the base64url character at `index` by another one, so the decoded bytes change. */
function changeCharAt(token: string, index: number): string {
  const replacement = token[index] === 'A' ? 'B' : 'A';
  return `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof IdentityError, `expected an IdentityError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('the token was accepted');
}

describe('VerifiedTokenCache', () => {
  test('hit returns the same claims', async () => {
    const { cache, verify, sign } = setup();
    const token = await sign('alloc-0');

    const first = await verify(token);
    assert.equal(cache.misses, 1);
    assert.equal(cache.size, 1);

    const second = await verify(token);
    assert.equal(cache.hits, 1);
    assert.equal(cache.misses, 1);
    assert.equal(second.claims, first.claims);
    assert.equal(second.claims.nomad_allocation_id, 'alloc-0');
    assert.equal(second.claims.nomad_task, 'server');
    assert.equal(second.alloc.ID, 'alloc-0');
  });

  test('hit claims are frozen', async () => {
    const { verify, sign } = setup();
    const { claims } = await verify(await sign('alloc-0'));
    assert.ok(Object.isFrozen(claims));
    assert.ok(Object.isFrozen(claims.aud));
  });

  test('removed key rejects a cached token', async () => {
    const { store, kek, keyId, cache, verify, sign } = setup();
    const token = await sign('alloc-0');
    await verify(token);
    assert.equal(cache.size, 1);

    // A newer key becomes active, so the old one may be removed; force revokes its identities.
    addKey(store, kek, T0_MS + 1000);
    applyKeyCommand(store, { type: 'root-key-delete', v: 1, keyId, force: true });

    assert.equal(await rejectionCode(verify(token)), 'KEY_UNKNOWN');
    assert.equal(cache.size, 0);
  });

  test('expired token rejected though cached', async () => {
    const { cache, clock, verify, sign } = setup();
    const token = await sign('alloc-0', { ttlNs: HOUR_NS });
    await verify(token);
    await verify(token);
    assert.equal(cache.hits, 1);

    clock.now = T0_MS + 3_600_000 + LEEWAY_MS + 1000;
    assert.equal(await rejectionCode(verify(token)), 'TOKEN_EXPIRED');
    assert.equal(cache.size, 0);
  });

  test('entry dropped at expiry', async () => {
    const { cache, clock, verify, sign } = setup();
    const token = await sign('alloc-0', { ttlNs: HOUR_NS });
    await verify(token);

    // Past exp but inside the leeway: the token still verifies, in full each time.
    clock.now = T0_MS + 3_600_000;
    await verify(token);
    assert.equal(cache.hits, 0);
    assert.equal(cache.misses, 2);
    assert.equal(cache.size, 0);
  });

  test('clock stepped back rejects cached token by nbf', async () => {
    const { cache, clock, verify, sign } = setup();
    const token = await sign('alloc-0');
    await verify(token);
    assert.equal(cache.size, 1);

    clock.now = T0_MS - LEEWAY_MS - 10_000;
    assert.equal(await rejectionCode(verify(token)), 'TOKEN_NOT_YET_VALID');
    assert.equal(cache.hits, 1);
    assert.equal(cache.size, 0);
  });

  test('terminal allocation rejects a cached token', async () => {
    const { store, cache, verify, sign } = setup();
    const token = await sign('alloc-0');
    await verify(token);

    setClientStatus(store, 'alloc-0', 'complete');
    assert.equal(await rejectionCode(verify(token)), 'ALLOCATION_TERMINAL');
    assert.equal(cache.hits, 1);
    assert.equal(cache.size, 0);
  });

  test('tampered token is a miss and rejected', async () => {
    const { cache, verify, sign } = setup();
    const token = await sign('alloc-0');
    await verify(token);
    const [header, payload] = token.split('.') as [string, string, string];

    const inPayload = changeCharAt(token, header.length + 1 + Math.floor(payload.length / 2));
    const inSignature = changeCharAt(token, token.length - 20);
    for (const tampered of [inPayload, inSignature]) {
      assert.notEqual(tampered, token);
      assert.equal(await rejectionCode(verify(tampered)), 'SIGNATURE_INVALID');
    }
    assert.equal(cache.hits, 0);
    assert.equal(cache.misses, 3);

    // The genuine token stays cached.
    await verify(token);
    assert.equal(cache.hits, 1);
  });

  test('failed verification is never cached', async () => {
    const { store, cache, verify, sign } = setup();
    const token = await sign('alloc-1');
    setClientStatus(store, 'alloc-1', 'failed');
    assert.equal(await rejectionCode(verify(token)), 'ALLOCATION_TERMINAL');
    assert.equal(cache.size, 0);

    assert.equal(await rejectionCode(verify(token)), 'ALLOCATION_TERMINAL');
    assert.equal(cache.hits, 0);
    assert.equal(cache.misses, 2);
  });

  test('bound evicts least recently used', async () => {
    const { cache, verify, sign } = setup(2);
    const [first, second, third] = [await sign('alloc-0'), await sign('alloc-1'), await sign('alloc-2')];

    await verify(first);
    await verify(second);
    await verify(first); // hit: first becomes the most recently used
    await verify(third); // evicts second
    assert.equal(cache.size, 2);
    assert.equal(cache.hits, 1);

    await verify(first);
    assert.equal(cache.hits, 2);
    await verify(second);
    assert.equal(cache.hits, 2);
    assert.equal(cache.misses, 4);
    assert.equal(cache.size, 2);
  });

  test('invalid capacity is rejected', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new VerifiedTokenCache(capacity), RangeError);
    }
  });
});

describe('Authenticator verified-token cache', () => {
  test('second use skips the signature check', async () => {
    const { store, kek, sign } = setup();
    const keyring = new ServerKeyring({ state: store, kek, logger: silent, timers: new FakeTimers() });
    const authenticator = new Authenticator({ state: store, keyring, now: () => T0_MS, logger: silent });
    const token = await sign('alloc-0');

    const first = await authenticator.authenticate(token);
    const second = await authenticator.authenticate(token);
    assert.equal(first.kind, 'workload');
    assert.equal(second.kind, 'workload');
    assert.equal(authenticator.verifiedTokens?.hits, 1);
    assert.equal(authenticator.verifiedTokens?.misses, 1);
  });

  test('size 0 turns the cache off', async () => {
    const { store, kek, sign } = setup();
    const keyring = new ServerKeyring({ state: store, kek, logger: silent, timers: new FakeTimers() });
    const authenticator = new Authenticator({
      state: store,
      keyring,
      now: () => T0_MS,
      logger: silent,
      verifiedTokenCacheSize: 0,
    });
    assert.equal(authenticator.verifiedTokens, null);
    const principal = await authenticator.authenticate(await sign('alloc-0'));
    assert.equal(principal.kind, 'workload');
  });
});
