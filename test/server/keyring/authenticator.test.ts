import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import pino from 'pino';
import { identityClaims, signIdentity } from '../../../src/identity/index.js';
import { Authenticator } from '../../../src/server/keyring/authenticator.js';
import { newRootKeyCommand } from '../../../src/server/keyring/new-root-key.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import { RequestError } from '../../../src/server/request-error.js';
import type { StateStore } from '../../../src/state/store.js';
import { applyOk, entry, makeAlloc, makeJob, T0 } from '../../state/workload-fixtures.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  capturingLogger,
  FakeTimers,
  LEVEL,
  newKek,
  placeSignedAllocs,
  setClientStatus,
  T0_MS,
  withDeadline,
} from './support.js';

const silent = pino({ level: 'silent' });

interface Setup {
  readonly store: StateStore;
  readonly kek: Buffer;
  readonly keyring: ServerKeyring;
  /** The keyring's timers: a wait for a key ends only when the test fires its timer. */
  readonly timers: FakeTimers;
  readonly authenticator: Authenticator;
  readonly lines: Record<string, unknown>[];
  readonly raw: string[];
  readonly clock: { now: number };
  /** Signs a token for task `server` of allocation `alloc-0`. */
  readonly token: (overrides?: { now?: number }) => string;
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function setup(): Setup {
  const store = bootstrappedStore();
  const kek = newKek();
  const keyId = addKey(store, kek);
  placeSignedAllocs(store, [{ keyId, status: 'running' }]);
  const { logger, lines, raw } = capturingLogger();
  const timers = new FakeTimers();
  const keyring = new ServerKeyring({ state: store, kek, logger, timers });
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
  return { store, kek, keyring, timers, authenticator, lines, raw, clock, token };
}

async function assertDenied(authenticator: Authenticator, token: string): Promise<void> {
  await assert.rejects(
    withDeadline(authenticator.authenticate(token), 'the token is rejected'),
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
    const unknownKid = base64urlJson({ alg: 'EdDSA', kid: randomUUID(), typ: 'JWT' });
    const none = base64urlJson({ alg: 'none', typ: 'JWT' });

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

  test('unknown kid is not waited for when waiting cannot help', async () => {
    const { authenticator, token, timers, store, lines } = setup();
    const [, payload, signature] = token().split('.') as [string, string, string];
    const unknownKid = base64urlJson({ alg: 'EdDSA', kid: randomUUID(), typ: 'JWT' });
    const cases: [string, string][] = [
      // alloc-0 is applied and contains a token for task server, so its plan's key was applied first.
      ['claims of an applied allocation', payload],
      ['no allocation claim', base64urlJson({ nomad_task: 'server' })],
      ['no task claim', base64urlJson({ nomad_allocation_id: 'alloc-0' })],
      ['empty allocation claim', base64urlJson({ nomad_allocation_id: '', nomad_task: 'server' })],
      ['payload not an object', base64urlJson([1, 2])],
    ];
    for (const [name, claims] of cases) {
      lines.length = 0;
      const denied = assertDenied(authenticator, `${unknownKid}.${claims}.${signature}`);
      assert.equal(timers.armedTotal, 0, `${name}: armed a wait for the key`);
      assert.equal(store.pendingWaits('rootKeys'), 0, `${name}: waits for the rootKeys table`);
      await denied;
      assert.equal(lines.find((line) => line.level === LEVEL.warn)?.code, 'KEY_UNKNOWN', name);
    }
  });

  test('a lagging server waits for the key of a new allocation', async () => {
    const { store, kek, authenticator, timers } = setup();
    // The leader rotated to a key and placed alloc-1 with a token it signed; this server has
    // applied neither entry yet.
    const { command, meta } = newRootKeyCommand(kek, T0_MS + 1000, 'inactive');
    const leaderStore = bootstrappedStore();
    applyKeyCommand(leaderStore, command);
    const newKey = new ServerKeyring({ state: leaderStore, kek, logger: silent }).signingKey(meta.KeyID)!;
    const alloc = makeAlloc({ ID: 'alloc-1', Name: 'web.frontend[1]' });
    const job = makeJob();
    const token = signIdentity(
      newKey,
      identityClaims({ alloc, job, task: job.TaskGroups[0]!.Tasks[0]!, region: 'global', now: T0_MS }),
    );

    const principal = authenticator.authenticate(token);
    assert.equal(timers.pending, 1);
    assert.equal(store.pendingWaits('rootKeys'), 1);
    applyKeyCommand(store, command);
    const place = [{ ...alloc, SignedIdentities: { server: token }, SigningKeyID: meta.KeyID }];
    applyOk(store, entry('plan-apply', { place, stop: [], evals: [], time: T0 }));

    const result = await principal;
    assert.ok(result.kind === 'workload');
    assert.equal(result.alloc.ID, 'alloc-1');
    assert.equal(timers.pending, 0);
    assert.equal(store.pendingWaits('rootKeys'), 0);
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
