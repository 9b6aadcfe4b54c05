import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateCommand } from '../../src/state/commands.js';
import { CommandError } from '../../src/state/errors.js';
import {
  accessorId,
  applyNext,
  bootstrap,
  makeToken,
  managementToken,
  rejection,
  secretId,
  upsertTokens,
} from './acl-fixtures.js';
import { applyOk, bootstrappedStore } from './workload-fixtures.js';

describe('ACL bootstrap', () => {
  test('first bootstrap records its index', () => {
    const store = bootstrappedStore();
    assert.equal(store.aclBootstrapIndex(), null);
    const token = managementToken(1);
    const index = applyOk(store, bootstrap(token));
    assert.equal(store.aclBootstrapIndex(), index);
    assert.deepEqual(store.aclToken(accessorId(1)), { ...token, CreateIndex: index, ModifyIndex: index });
    assert.equal(store.aclTokenBySecret(secretId(1))?.Type, 'management');
    assert.equal(store.tableIndex('aclTokens'), index);
    assert.equal(store.tableIndex('aclBootstrap'), index);
  });

  test('reset index ignored before bootstrap', () => {
    const store = bootstrappedStore();
    const index = applyOk(store, bootstrap(managementToken(1), 42));
    assert.equal(store.aclBootstrapIndex(), index);
  });

  test('second bootstrap rejected', () => {
    const store = bootstrappedStore();
    const index = applyOk(store, bootstrap(managementToken(1)));
    const result = rejection(applyNext(store, bootstrap(managementToken(2))));
    assert.equal(result.status, 400);
    assert.equal(result.message, `ACL bootstrap already done (reset index: ${index})`);
    assert.equal(store.aclToken(accessorId(2)), null);
    assert.equal(store.aclBootstrapIndex(), index);
  });

  test('wrong reset index rejected', () => {
    const store = bootstrappedStore();
    const index = applyOk(store, bootstrap(managementToken(1)));
    const result = rejection(applyNext(store, bootstrap(managementToken(2), index + 1)));
    assert.equal(result.status, 400);
    assert.equal(
      result.message,
      `Invalid bootstrap reset index (specified ${index + 1}, reset index: ${index})`,
    );
    assert.equal(store.aclToken(accessorId(2)), null);
  });

  test('the recorded reset index bootstraps again, once', () => {
    const store = bootstrappedStore();
    const first = applyOk(store, bootstrap(managementToken(1)));
    const second = applyOk(store, bootstrap(managementToken(2), first));
    assert.equal(store.aclBootstrapIndex(), second);
    // The first bootstrap token stays; a reset adds a management token, it revokes none.
    assert.deepEqual(
      store.aclTokens().map((token) => token.AccessorID),
      [accessorId(1), accessorId(2)],
    );

    const reused = rejection(applyNext(store, bootstrap(managementToken(3), first)));
    assert.equal(
      reused.message,
      `Invalid bootstrap reset index (specified ${first}, reset index: ${second})`,
    );
    const third = applyOk(store, bootstrap(managementToken(3), second));
    assert.equal(store.aclBootstrapIndex(), third);
  });

  test('taken accessor or secret rejected', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, upsertTokens(makeToken()));

    const sameAccessor = rejection(
      applyNext(store, bootstrap(managementToken(1, { SecretID: secretId(5) }))),
    );
    assert.equal(sameAccessor.status, 409);
    const sameSecret = rejection(applyNext(store, bootstrap(managementToken(2, { SecretID: secretId(1) }))));
    assert.equal(sameSecret.status, 409);

    assert.equal(store.aclBootstrapIndex(), null);
    assert.equal(store.tableIndex('aclTokens'), created);
    assert.equal(store.tableIndex('aclBootstrap'), 1);
    applyOk(store, bootstrap(managementToken(2)));
  });

  test('bootstrap token must be management', () => {
    const command = { type: 'acl-bootstrap', v: 1, token: makeToken(), resetIndex: 0 };
    assert.throws(
      () => validateCommand(command as never),
      (err: unknown) => err instanceof CommandError && err.field === 'token.Type',
    );
    assert.throws(
      () => validateCommand({ ...command, token: managementToken(1), resetIndex: -1 } as never),
      (err: unknown) => err instanceof CommandError && err.field === 'resetIndex',
    );
  });
});
