import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateCommand } from '../../src/state/commands.js';
import { CommandError, SnapshotError } from '../../src/state/errors.js';
import { snapshotPackr, statePackr } from '../../src/state/msgpack.js';
import type { StateStore } from '../../src/state/store.js';
import { accessorId, bootstrap, makeToken, managementToken, upsertTokens } from './acl-fixtures.js';
import { applyOk, bootstrappedStore, T0 } from './workload-fixtures.js';

// Secrets chosen so that any piece of them in a message is easy to spot.
const SECRET = 'feedface-cafe-4bad-8bee-deadbeef0001';
const OTHER_SECRET = 'feedface-cafe-4bad-8bee-deadbeef0002';
const NOT_A_UUID = 'my-password-is-hunter2-do-not-log-it';

/** Fails when `message` contains a secret or a run of 8 or more of its characters. */
function assertNoSecret(message: string): void {
  for (const secret of [SECRET, OTHER_SECRET, NOT_A_UUID]) {
    for (let start = 0; start + 8 <= secret.length; start++) {
      const piece = secret.slice(start, start + 8);
      assert.ok(
        !message.includes(piece),
        `message ${JSON.stringify(message)} contains ${JSON.stringify(piece)}`,
      );
    }
  }
}

/** Returns the message of the error that `run` throws. */
function messageOf(run: () => unknown, kind: typeof CommandError | typeof SnapshotError): string {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof kind, String(err));
    return err.message;
  }
  assert.fail('expected an error');
}

function storeWithToken(): StateStore {
  const store = bootstrappedStore();
  applyOk(store, upsertTokens(makeToken({ SecretID: SECRET, ExpirationTime: T0 + 1e12 })));
  return store;
}

describe('ACL secrets in messages', () => {
  test('command errors never show a secret', () => {
    const token = makeToken({ SecretID: SECRET });
    const cases: unknown[] = [
      { ...token, SecretID: NOT_A_UUID },
      { ...token, SecretID: `${SECRET}0` },
      { ...token, SecretID: SECRET.toUpperCase().replace('F', 'G') },
      { ...token, SecretID: [SECRET] },
      { ...token, SecretID: { value: SECRET } },
      { ...token, Name: 'n'.repeat(300) },
      { ...token, Policies: [] },
      { ...token, Type: 'management' },
      { ...token, ExpirationTime: 0 },
      { ...token, Extra: SECRET },
    ];
    for (const bad of cases) {
      const message = messageOf(
        () => validateCommand({ type: 'acl-token-upsert', v: 1, tokens: [bad] } as never),
        CommandError,
      );
      assertNoSecret(message);
    }
    const bootstrapMessage = messageOf(
      () => validateCommand({ type: 'acl-bootstrap', v: 1, token, resetIndex: 0 } as never),
      CommandError,
    );
    assertNoSecret(bootstrapMessage);
  });

  test('an undecodable entry never shows a secret', () => {
    const store = bootstrappedStore();
    const bad = { type: 'acl-token-upsert', v: 1, tokens: [{ ...makeToken(), SecretID: NOT_A_UUID }] };
    const result = store.apply(2, statePackr.pack(bad));
    assert.equal(result.ok === false && result.reason, 'undecodable');
    assertNoSecret(result.ok === false ? result.message : '');
  });

  test('rejections never show a secret', () => {
    const store = storeWithToken();
    const results = [
      // Another token with the same secret.
      store.apply(
        store.latestIndex + 1,
        upsertTokens(makeToken({ AccessorID: accessorId(2), SecretID: SECRET })),
      ),
      // A changed secret, then changes to fixed fields.
      store.apply(
        store.latestIndex + 1,
        upsertTokens(makeToken({ SecretID: OTHER_SECRET, ExpirationTime: T0 + 1e12 })),
      ),
      store.apply(store.latestIndex + 1, upsertTokens(makeToken({ SecretID: SECRET, ExpirationTime: null }))),
      store.apply(
        store.latestIndex + 1,
        upsertTokens(makeToken({ SecretID: SECRET, ExpirationTime: T0 + 1e12, Global: true })),
      ),
      // A bootstrap with a secret in use.
      store.apply(store.latestIndex + 1, bootstrap(managementToken(3, { SecretID: SECRET }))),
    ];
    for (const result of results) {
      assert.equal(result.ok, false);
      assertNoSecret(result.ok === false ? result.message : '');
    }
  });

  test('snapshot errors never show a secret', () => {
    const source = storeWithToken();
    applyOk(source, upsertTokens(makeToken({ AccessorID: accessorId(2), SecretID: OTHER_SECRET })));
    const edits: ((rows: Record<string, unknown>[]) => void)[] = [
      (rows) => (rows[1]!.SecretID = SECRET),
      (rows) => (rows[0]!.SecretID = NOT_A_UUID),
      (rows) => (rows[0]!.Policies = []),
      (rows) => (rows[0]!.Name = 7),
    ];
    for (const edit of edits) {
      const image = snapshotPackr.unpack(source.snapshot()) as {
        tables: { aclTokens: { rows: Record<string, unknown>[] } };
      };
      edit(image.tables.aclTokens.rows);
      const message = messageOf(() => bootstrappedStore().restore(snapshotPackr.pack(image)), SnapshotError);
      assertNoSecret(message);
    }
  });
});
