import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateCommand } from '../../src/state/commands.js';
import { CommandError } from '../../src/state/errors.js';
import { MAX_TOKEN_POLICIES } from '../../src/state/limits.js';
import {
  accessorId,
  applyNext,
  makeToken,
  managementToken,
  rejection,
  secretId,
  upsertTokens,
} from './acl-fixtures.js';
import { applyOk, bootstrappedStore, entry, T0 } from './workload-fixtures.js';

const HOUR = 3600e9;

function commandErrorOf(command: unknown): CommandError {
  try {
    validateCommand(command as never);
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  assert.fail('expected a CommandError');
}

describe('ACL token upsert', () => {
  test('creates client and management tokens', () => {
    const store = bootstrappedStore();
    const client = makeToken({ ExpirationTime: T0 + HOUR });
    const management = managementToken(2);
    const index = applyOk(store, upsertTokens(client, management));
    assert.deepEqual(store.aclToken(client.AccessorID), {
      ...client,
      CreateIndex: index,
      ModifyIndex: index,
    });
    assert.deepEqual(store.aclToken(management.AccessorID), {
      ...management,
      CreateIndex: index,
      ModifyIndex: index,
    });
    assert.ok(Object.isFrozen(store.aclToken(client.AccessorID)));
    assert.ok(Object.isFrozen(store.aclToken(client.AccessorID)!.Policies));
    assert.deepEqual(
      store.aclTokens().map((token) => token.AccessorID),
      [accessorId(1), accessorId(2)],
    );
    assert.equal(store.tableIndex('aclTokens'), index);
  });

  test('finds a token by its secret', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertTokens(makeToken(), managementToken(2)));
    assert.equal(store.aclTokenBySecret(secretId(2))?.AccessorID, accessorId(2));
    assert.equal(store.aclTokenBySecret(secretId(1))?.AccessorID, accessorId(1));
    assert.equal(store.aclTokenBySecret(secretId(3)), null);
    // A secret is not an accessor, and an accessor is not a secret.
    assert.equal(store.aclTokenBySecret(accessorId(1)), null);
    assert.equal(store.aclToken(secretId(1)), null);
  });

  test('update keeps CreateTime and CreateIndex', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, upsertTokens(makeToken({ ExpirationTime: T0 + HOUR })));
    const update = makeToken({
      Name: 'renamed',
      Policies: ['a', 'b'],
      CreateTime: T0 + 5e9,
      ExpirationTime: T0 + HOUR,
      CreateIndex: 99,
    });
    const updated = applyOk(store, upsertTokens(update));
    assert.deepEqual(store.aclToken(accessorId(1)), {
      ...update,
      CreateTime: T0,
      CreateIndex: created,
      ModifyIndex: updated,
    });
  });

  test('update may change the type', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertTokens(makeToken()));
    applyOk(store, upsertTokens(makeToken({ Type: 'management', Policies: [] })));
    assert.equal(store.aclToken(accessorId(1))!.Type, 'management');
  });

  // [case, change made by the update]
  const fixed: [string, Record<string, unknown>][] = [
    ['set an expiration time', { ExpirationTime: T0 + HOUR }],
    ['change the expiration time', { ExpirationTime: T0 + 2 * HOUR }],
    ['remove the expiration time', { ExpirationTime: null }],
    ['toggle Global', { Global: true }],
    ['change the secret', { SecretID: secretId(9) }],
  ];
  for (const [name, change] of fixed) {
    test(`update may not ${name}`, () => {
      const store = bootstrappedStore();
      const original =
        name === 'set an expiration time' ? makeToken() : makeToken({ ExpirationTime: T0 + HOUR });
      const created = applyOk(store, upsertTokens(original));
      const result = rejection(applyNext(store, upsertTokens({ ...original, Name: 'changed', ...change })));
      assert.equal(result.status, 400);
      assert.ok(result.message.includes(accessorId(1)), result.message);
      assert.deepEqual(store.aclToken(accessorId(1)), {
        ...original,
        CreateIndex: created,
        ModifyIndex: created,
      });
    });
  }

  test('secret of another token rejected', () => {
    const store = bootstrappedStore();
    const first = applyOk(store, upsertTokens(makeToken()));
    const second = makeToken({ AccessorID: accessorId(2) });
    const result = rejection(applyNext(store, upsertTokens(second)));
    assert.equal(result.status, 409);
    assert.equal(
      result.message,
      `the secret ID of ACL token ${accessorId(2)} is already used by another token`,
    );
    assert.equal(store.aclToken(accessorId(2)), null);
    assert.equal(store.aclTokenBySecret(secretId(1))?.AccessorID, accessorId(1));
    assert.equal(store.tableIndex('aclTokens'), first);
  });

  test('one secret twice in a command', () => {
    const store = bootstrappedStore();
    const result = applyNext(store, upsertTokens(makeToken(), makeToken({ AccessorID: accessorId(2) })));
    assert.equal(rejection(result).status, 409);
    assert.deepEqual(store.aclTokens(), []);
    assert.equal(store.tableIndex('aclTokens'), 1);
  });

  test('a rejected token rejects the whole command', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertTokens(makeToken({ Global: false })));
    const result = applyNext(
      store,
      upsertTokens(
        makeToken({ AccessorID: accessorId(2), SecretID: secretId(2) }),
        makeToken({ Global: true }),
      ),
    );
    assert.equal(rejection(result).status, 400);
    assert.equal(store.aclToken(accessorId(2)), null);
  });
});

describe('ACL token fields', () => {
  // [case, token overrides, field the error names]
  const invalid: [string, Record<string, unknown>, string][] = [
    ['AccessorID not a UUID', { AccessorID: 'deploy-token' }, 'tokens.0.AccessorID'],
    ['SecretID not a UUID', { SecretID: 'hunter2' }, 'tokens.0.SecretID'],
    ['SecretID with a brace', { SecretID: `{${secretId(1).slice(1)}` }, 'tokens.0.SecretID'],
    ['SecretID a number', { SecretID: 1234 }, 'tokens.0.SecretID'],
    ['SecretID missing', { SecretID: undefined }, 'tokens.0.SecretID'],
    ['SecretID equal to AccessorID', { SecretID: accessorId(1).toUpperCase() }, 'tokens.0.SecretID'],
    ['Name of 257 bytes', { Name: 'n'.repeat(257) }, 'tokens.0.Name'],
    ['unknown Type', { Type: 'admin' }, 'tokens.0.Type'],
    ['client token without policies', { Policies: [] }, 'tokens.0.Policies'],
    ['management token with policies', { Type: 'management' }, 'tokens.0.Policies'],
    ['invalid policy name', { Policies: ['read only'] }, 'tokens.0.Policies.0'],
    ['repeated policy name', { Policies: ['a', 'b', 'a'] }, 'tokens.0.Policies.2'],
    [
      'too many policies',
      { Policies: Array.from({ length: MAX_TOKEN_POLICIES + 1 }, (_, i) => `p${i}`) },
      'tokens.0.Policies',
    ],
    ['Global not a boolean', { Global: 'yes' }, 'tokens.0.Global'],
    ['fractional CreateTime', { CreateTime: 1.5 }, 'tokens.0.CreateTime'],
    ['ExpirationTime before CreateTime', { ExpirationTime: T0 - 1e9 }, 'tokens.0.ExpirationTime'],
    ['unknown field', { Roles: [] }, 'tokens.0.Roles'],
  ];
  for (const [name, overrides, field] of invalid) {
    test(`rejects ${name}`, () => {
      const token: Record<string, unknown> = { ...makeToken(), ...overrides };
      for (const key of Object.keys(token)) if (token[key] === undefined) delete token[key];
      const err = commandErrorOf({ type: 'acl-token-upsert', v: 1, tokens: [token] });
      assert.equal(err.code, 'INVALID_FIELD');
      assert.equal(err.field, field);
    });
  }

  test('accepts edge-case secret and expiry', () => {
    assert.doesNotThrow(() =>
      validateCommand({
        type: 'acl-token-upsert',
        v: 1,
        tokens: [makeToken({ SecretID: secretId(1).toUpperCase(), ExpirationTime: T0 })],
      }),
    );
  });

  test('upsert rejects bad token lists', () => {
    const repeated = commandErrorOf({
      type: 'acl-token-upsert',
      v: 1,
      tokens: [makeToken(), makeToken({ SecretID: secretId(2) })],
    });
    assert.equal(repeated.field, 'tokens.1');
    assert.equal(commandErrorOf({ type: 'acl-token-upsert', v: 1, tokens: [] }).field, 'tokens');
  });
});

describe('ACL token delete', () => {
  test('deletes the tokens and frees their secrets', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertTokens(makeToken(), managementToken(2), managementToken(3)));
    const index = applyOk(store, entry('acl-token-delete', { accessorIds: [accessorId(1), accessorId(3)] }));
    assert.deepEqual(
      store.aclTokens().map((token) => token.AccessorID),
      [accessorId(2)],
    );
    assert.equal(store.aclTokenBySecret(secretId(1)), null);
    assert.equal(store.tableIndex('aclTokens'), index);
    // The secret of a deleted token may be given to a new one.
    applyOk(store, upsertTokens(makeToken({ AccessorID: accessorId(4) })));
    assert.equal(store.aclTokenBySecret(secretId(1))?.AccessorID, accessorId(4));
  });

  test('unknown accessor rejects whole command', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, upsertTokens(makeToken()));
    const result = rejection(
      applyNext(store, entry('acl-token-delete', { accessorIds: [accessorId(1), accessorId(7)] })),
    );
    assert.equal(result.status, 404);
    assert.equal(result.message, `ACL token ${accessorId(7)} not found`);
    assert.notEqual(store.aclToken(accessorId(1)), null);
    assert.equal(store.tableIndex('aclTokens'), created);
  });

  test('delete rejects bad accessor lists', () => {
    const command = (accessorIds: unknown) => ({ type: 'acl-token-delete', v: 1, accessorIds });
    assert.equal(commandErrorOf(command(['x'])).field, 'accessorIds.0');
    assert.equal(commandErrorOf(command([accessorId(1), accessorId(1)])).field, 'accessorIds.1');
    assert.equal(commandErrorOf(command([])).field, 'accessorIds');
  });
});
