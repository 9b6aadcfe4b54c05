import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { identityClaims, signIdentity } from '../../../src/identity/index.js';
import { Authenticator } from '../../../src/server/keyring/authenticator.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import { RequestError } from '../../../src/server/request-error.js';
import { makeJob } from '../../state/workload-fixtures.js';
import {
  addKey,
  bootstrappedStore,
  capturingLogger,
  FakeTimers,
  LEVEL,
  newKek,
  placeSignedAllocs,
  T0_MS,
} from '../keyring/support.js';
import { managementToken, putTokens, secretId } from './support.js';

function setup(aclEnabled: boolean) {
  const store = bootstrappedStore();
  const kek = newKek();
  const keyId = addKey(store, kek);
  placeSignedAllocs(store, [{ keyId, status: 'running' }]);
  putTokens(store, managementToken(1));
  const { logger, lines, raw } = capturingLogger();
  const keyring = new ServerKeyring({ state: store, kek, logger, timers: new FakeTimers() });
  const authenticator = new Authenticator({ state: store, keyring, aclEnabled, now: () => T0_MS, logger });
  const job = makeJob();
  const identity = signIdentity(
    keyring.signingKey(keyId)!,
    identityClaims({
      alloc: store.allocation('alloc-0')!,
      job,
      task: job.TaskGroups[0]!.Tasks[0]!,
      region: 'global',
      now: T0_MS,
    }),
  );
  return { authenticator, lines, raw, identity };
}

async function assertDenied(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof RequestError);
    assert.equal(err.status, 403);
    assert.equal(err.message, 'Permission denied');
    return true;
  });
}

describe('Authenticator with ACLs enabled', () => {
  test('stored token secret passes', async () => {
    const { authenticator } = setup(true);
    assert.deepEqual(await authenticator.authenticate(secretId(1)), {
      kind: 'acl-token',
      secretId: secretId(1),
    });
  });

  test('unknown UUID is denied and logged', async () => {
    const { authenticator, lines, raw } = setup(true);
    await assertDenied(authenticator.authenticate(secretId(7)));
    const warn = lines.find((line) => line.level === LEVEL.warn);
    assert.equal(warn?.msg, 'rejected an ACL token');
    assert.equal(warn?.code, 'ACL_TOKEN_NOT_FOUND');
    assert.ok(!raw.join('').includes(secretId(7)), 'the secret is not logged');
  });

  test('workload identity still verifies', async () => {
    const { authenticator, identity } = setup(true);
    const principal = await authenticator.authenticate(identity);
    assert.equal(principal.kind, 'workload');
  });
});

describe('Authenticator with ACLs disabled', () => {
  test('unknown UUID passes', async () => {
    const { authenticator, lines } = setup(false);
    assert.deepEqual(await authenticator.authenticate(secretId(7)), {
      kind: 'acl-token',
      secretId: secretId(7),
    });
    assert.equal(lines.filter((line) => line.level === LEVEL.warn).length, 0);
  });

  test('invalid workload identity is denied', async () => {
    const { authenticator, identity } = setup(false);
    const [header, payload] = identity.split('.') as [string, string, string];
    await assertDenied(authenticator.authenticate(`${header}.${payload}.AAAA`));
  });

  test('valid workload identity verifies', async () => {
    const { authenticator, identity } = setup(false);
    const principal = await authenticator.authenticate(identity);
    assert.ok(principal.kind === 'workload');
    assert.equal(principal.alloc.ID, 'alloc-0');
  });
});
