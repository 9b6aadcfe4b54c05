import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { identityClaims, signIdentity } from '../../../src/identity/index.js';
import { Authenticator } from '../../../src/server/keyring/authenticator.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import { RequestError } from '../../../src/server/request-error.js';
import type { StateStore } from '../../../src/state/store.js';
import { makeJob } from '../../state/workload-fixtures.js';
import {
  addKey,
  bootstrappedStore,
  capturingLogger,
  LEVEL,
  newKek,
  placeSignedAllocs,
  setClientStatus,
  T0_MS,
} from './support.js';

interface Setup {
  readonly store: StateStore;
  readonly keyring: ServerKeyring;
  readonly authenticator: Authenticator;
  readonly lines: Record<string, unknown>[];
  readonly raw: string[];
  readonly clock: { now: number };
  /** Signs a token for task `server` of allocation `alloc-0`. */
  readonly token: (overrides?: { now?: number }) => string;
}

function setup(): Setup {
  const store = bootstrappedStore();
  const kek = newKek();
  const keyId = addKey(store, kek);
  placeSignedAllocs(store, [{ keyId, status: 'running' }]);
  const { logger, lines, raw } = capturingLogger();
  const keyring = new ServerKeyring({ state: store, kek, logger });
  const clock = { now: T0_MS };
  const authenticator = new Authenticator({ state: store, keyring, now: () => clock.now, logger });
  const job = makeJob();
  const token = (overrides: { now?: number } = {}) =>
    signIdentity(
      keyring.signingKey(keyId)!,
      identityClaims({
        alloc: store.allocation('alloc-0')!,
        job,
        task: job.TaskGroups[0]!.Tasks[0]!,
        region: 'global',
        now: overrides.now ?? clock.now,
      }),
    );
  return { store, keyring, authenticator, lines, raw, clock, token };
}

async function assertDenied(authenticator: Authenticator, token: string): Promise<void> {
  await assert.rejects(
    authenticator.authenticate(token),
    (err: unknown) =>
      err instanceof RequestError && err.status === 403 && err.message === 'Permission denied',
  );
}

describe('Authenticator', () => {
  test('a UUID is an ACL token', async () => {
    const { authenticator } = setup();
    const secretId = randomUUID();
    assert.deepEqual(await authenticator.authenticate(secretId), { kind: 'acl-token', secretId });
  });

  test('a valid workload identity returns its claims and allocation', async () => {
    const { authenticator, token } = setup();
    const principal = await authenticator.authenticate(token());
    assert.equal(principal.kind, 'workload');
    assert.ok(principal.kind === 'workload');
    assert.equal(principal.alloc.ID, 'alloc-0');
    assert.equal(principal.claims.nomad_task, 'server');
    assert.equal(principal.claims.nomad_job_id, 'web');
  });

  test('failures are denied and logged with their code, never the token', async () => {
    const { authenticator, token, lines, raw, store, clock } = setup();
    const good = token();
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    const unknownKid = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: randomUUID(), typ: 'JWT' })).toString(
      'base64url',
    );
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');

    const cases: [string, string][] = [
      ['not a token', 'TOKEN_MALFORMED'],
      [`${header}.${payload}.${flipped}`, 'SIGNATURE_INVALID'],
      [`${none}.${payload}.`, 'ALGORITHM_NOT_ALLOWED'],
      [`${unknownKid}.${payload}.${signature}`, 'KEY_UNKNOWN'],
      [token({ now: clock.now + 10 * 60_000 }), 'TOKEN_NOT_YET_VALID'],
    ];
    for (const [bad, code] of cases) {
      lines.length = 0;
      await assertDenied(authenticator, bad);
      const warn = lines.find((line) => line.level === LEVEL.warn);
      assert.equal(warn?.code, code);
    }

    setClientStatus(store, 'alloc-0', 'complete');
    lines.length = 0;
    await assertDenied(authenticator, good);
    assert.equal(lines.find((line) => line.level === LEVEL.warn)?.code, 'ALLOCATION_TERMINAL');
    assert.equal(lines.find((line) => line.level === LEVEL.warn)?.allocationId, 'alloc-0');

    const log = raw.join('');
    assert.ok(!log.includes(good));
    assert.ok(!log.includes(signature));
    assert.ok(!log.includes(payload));
  });

  test('a flood of rejections is rate-limited and counted', async () => {
    const { authenticator, lines } = setup();
    for (let i = 0; i < 30; i++) await assertDenied(authenticator, `garbage-${i}`);
    const warns = lines.filter((line) => line.level === LEVEL.warn);
    const debugs = lines.filter((line) => line.level === LEVEL.debug);
    assert.ok(warns.length >= 10, `${warns.length} warn lines`);
    assert.ok(debugs.length > 0, 'rejections past the limit go to debug');
    assert.equal(warns.length + debugs.length, 30);
  });
});
