import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateCommand } from '../../src/state/commands.js';
import { CommandError } from '../../src/state/errors.js';
import { MAX_ACL_COMMAND_ITEMS, MAX_ACL_RULES_BYTES } from '../../src/state/limits.js';
import {
  accessorId,
  applyNext,
  jobAcl,
  makePolicy,
  makeToken,
  rejection,
  upsertPolicies,
  upsertTokens,
} from './acl-fixtures.js';
import { applyOk, bootstrappedStore, entry } from './workload-fixtures.js';

function names(policies: readonly { Name: string }[]): string[] {
  return policies.map((policy) => policy.Name);
}

/** Returns the CommandError that validating `command` throws, failing the test when there is none. */
function commandErrorOf(command: unknown): CommandError {
  try {
    validateCommand(command as never);
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  assert.fail('expected a CommandError');
}

describe('ACL policy upsert', () => {
  test('creates a policy with the entry index', () => {
    const store = bootstrappedStore();
    const index = applyOk(store, upsertPolicies(makePolicy({ JobACL: jobAcl('default', 'web') })));
    const row = store.aclPolicy('readonly');
    assert.deepEqual(
      row,
      makePolicy({ JobACL: jobAcl('default', 'web'), CreateIndex: index, ModifyIndex: index }),
    );
    assert.ok(Object.isFrozen(row));
    assert.ok(Object.isFrozen(row!.JobACL));
    assert.equal(store.tableIndex('aclPolicies'), index);
    assert.equal(store.tableIndex('aclTokens'), 1);
  });

  test('update keeps CreateIndex and replaces the rest', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, upsertPolicies(makePolicy()));
    const changed = makePolicy({ Description: 'new', Rules: 'namespace "*" { policy = "write" }' });
    const updated = applyOk(store, upsertPolicies({ ...changed, CreateIndex: 77, ModifyIndex: 78 }));
    assert.deepEqual(store.aclPolicy('readonly'), { ...changed, CreateIndex: created, ModifyIndex: updated });
  });

  test('applies several policies in one entry', () => {
    const store = bootstrappedStore();
    applyOk(
      store,
      upsertPolicies(makePolicy({ Name: 'b' }), makePolicy({ Name: 'a' }), makePolicy({ Name: 'C' })),
    );
    assert.deepEqual(names(store.aclPolicies()), ['C', 'a', 'b']);
  });

  test('rules are stored unparsed', () => {
    const store = bootstrappedStore();
    // The writer checks Rules before proposing; apply neither parses nor rejects them.
    applyOk(store, upsertPolicies(makePolicy({ Rules: 'this is { not HCL' })));
    assert.equal(store.aclPolicy('readonly')!.Rules, 'this is { not HCL');
  });
});

describe('ACL policy fields', () => {
  // [case, policy overrides, field the error names]
  const invalid: [string, Record<string, unknown>, string][] = [
    ['empty name', { Name: '' }, 'policies.0.Name'],
    ['name with a dot', { Name: 'read.only' }, 'policies.0.Name'],
    ['name of 129 characters', { Name: 'a'.repeat(129) }, 'policies.0.Name'],
    ['description of 257 bytes', { Description: 'd'.repeat(257) }, 'policies.0.Description'],
    ['rules above the limit', { Rules: 'r'.repeat(MAX_ACL_RULES_BYTES + 1) }, 'policies.0.Rules'],
    ['rules not a string', { Rules: 42 }, 'policies.0.Rules'],
    ['JobACL not a map', { JobACL: 'default' }, 'policies.0.JobACL'],
    [
      'JobACL without Task',
      { JobACL: { Namespace: 'default', JobID: 'web', Group: '' } },
      'policies.0.JobACL.Task',
    ],
    ['JobACL with all parts empty', { JobACL: jobAcl('') }, 'policies.0.JobACL.Namespace'],
    ['JobACL namespace glob', { JobACL: jobAcl('*') }, 'policies.0.JobACL.Namespace'],
    ['JobACL job ID with NUL', { JobACL: jobAcl('default', 'a\u0000b') }, 'policies.0.JobACL.JobID'],
    ['unknown field', { Hash: 'abc' }, 'policies.0.Hash'],
    ['negative CreateIndex', { CreateIndex: -1 }, 'policies.0.CreateIndex'],
  ];
  for (const [name, overrides, field] of invalid) {
    test(`rejects ${name}`, () => {
      const err = commandErrorOf({
        type: 'acl-policy-upsert',
        v: 1,
        policies: [{ ...makePolicy(), ...overrides }],
      });
      assert.equal(err.code, 'INVALID_FIELD');
      assert.equal(err.field, field);
    });
  }

  test('accepts the longest name and description', () => {
    const policy = makePolicy({ Name: 'a'.repeat(128), Description: 'd'.repeat(256) });
    assert.doesNotThrow(() => validateCommand({ type: 'acl-policy-upsert', v: 1, policies: [policy] }));
  });

  // Nomad's JobACL rules, with its messages: [JobACL, message fragment or null when valid]
  const jobAcls: [ReturnType<typeof jobAcl>, string | null][] = [
    [jobAcl('ns'), null],
    [jobAcl('ns', 'J'), null],
    [jobAcl('ns', 'J', 'web'), null],
    [jobAcl('ns', 'J', 'web', 'task'), null],
    [jobAcl('', 'J'), 'namespace must be set to set job ID'],
    [jobAcl('ns', '', 'web'), 'job ID must be set to set group'],
    [jobAcl('ns', 'J', '', 'task'), 'group must be set to set task'],
  ];
  for (const [acl, message] of jobAcls) {
    test(`JobACL ${JSON.stringify(acl)} is ${message === null ? 'valid' : 'invalid'}`, () => {
      const command = { type: 'acl-policy-upsert', v: 1, policies: [makePolicy({ JobACL: acl })] };
      if (message === null) {
        assert.doesNotThrow(() => validateCommand(command as never));
        return;
      }
      const err = commandErrorOf(command);
      assert.equal(err.field, 'policies.0.JobACL');
      assert.ok(err.problem.includes(message), err.problem);
    });
  }

  test('upsert rejects bad policy lists', () => {
    const repeated = commandErrorOf({
      type: 'acl-policy-upsert',
      v: 1,
      policies: [makePolicy(), makePolicy()],
    });
    assert.equal(repeated.field, 'policies.1');
    assert.equal(commandErrorOf({ type: 'acl-policy-upsert', v: 1, policies: [] }).field, 'policies');
    const many = Array.from({ length: MAX_ACL_COMMAND_ITEMS + 1 }, (_, i) => makePolicy({ Name: `p${i}` }));
    assert.equal(commandErrorOf({ type: 'acl-policy-upsert', v: 1, policies: many }).field, 'policies');
  });

  test('delete rejects bad name lists', () => {
    assert.equal(commandErrorOf({ type: 'acl-policy-delete', v: 1, names: ['a b'] }).field, 'names.0');
    assert.equal(commandErrorOf({ type: 'acl-policy-delete', v: 1, names: ['a', 'a'] }).field, 'names.1');
    assert.equal(commandErrorOf({ type: 'acl-policy-delete', v: 1, names: [] }).field, 'names');
  });
});

describe('ACL policy delete', () => {
  test('deletes the named policies', () => {
    const store = bootstrappedStore();
    applyOk(
      store,
      upsertPolicies(makePolicy({ Name: 'a' }), makePolicy({ Name: 'b' }), makePolicy({ Name: 'c' })),
    );
    const index = applyOk(store, entry('acl-policy-delete', { names: ['a', 'c'] }));
    assert.deepEqual(names(store.aclPolicies()), ['b']);
    assert.equal(store.aclPolicy('a'), null);
    assert.equal(store.tableIndex('aclPolicies'), index);
  });

  test('unknown name rejects whole command', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, upsertPolicies(makePolicy({ Name: 'a' })));
    const result = rejection(applyNext(store, entry('acl-policy-delete', { names: ['a', 'missing'] })));
    assert.equal(result.status, 404);
    assert.equal(result.reason, 'rejected');
    assert.equal(result.message, 'ACL policy missing not found');
    assert.deepEqual(names(store.aclPolicies()), ['a']);
    assert.equal(store.tableIndex('aclPolicies'), created);
  });

  test('tokens keep the name of a deleted policy', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertPolicies(makePolicy()));
    applyOk(store, upsertTokens(makeToken({ Policies: ['readonly'] })));
    applyOk(store, entry('acl-policy-delete', { names: ['readonly'] }));
    assert.deepEqual(store.aclToken(accessorId(1))!.Policies, ['readonly']);
  });
});

describe('ACL policies for a job', () => {
  // Policies of Nomad's claim resolution test, for allocations of job J in namespace ns.
  const policies = [
    makePolicy({ Name: 'p0' }),
    makePolicy({ Name: 'p1', JobACL: jobAcl('ns', 'J') }),
    makePolicy({ Name: 'p2', JobACL: jobAcl('ns', 'J', 'web') }),
    makePolicy({ Name: 'p3', JobACL: jobAcl('ns', 'J', 'web', 'web') }),
    makePolicy({ Name: 'p4', JobACL: jobAcl('ns', 'J', 'web', 'another') }),
    makePolicy({ Name: 'p5', JobACL: jobAcl('ns', 'J', 'another') }),
    makePolicy({ Name: 'p6', JobACL: jobAcl('ns', 'another') }),
    makePolicy({ Name: 'p7', JobACL: jobAcl('another', 'J') }),
    makePolicy({ Name: 'p8', JobACL: jobAcl('ns') }),
    makePolicy({ Name: 'p9', JobACL: jobAcl('another') }),
  ];

  test('job and namespace-wide policies', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertPolicies(...policies));
    // Group and task filtering is the caller's, so p4 and p5 are here too.
    assert.deepEqual(names(store.aclPoliciesForJob('ns', 'J')), ['p1', 'p2', 'p3', 'p4', 'p5', 'p8']);
    assert.deepEqual(names(store.aclPoliciesForJob('ns', 'another')), ['p6', 'p8']);
    assert.deepEqual(names(store.aclPoliciesForJob('another', 'J')), ['p7', 'p9']);
    assert.deepEqual(names(store.aclPoliciesForJob('ns', '')), ['p8']);
    assert.deepEqual(names(store.aclPoliciesForJob('none', 'J')), []);
    for (const row of store.aclPoliciesForJob('ns', 'J')) assert.ok(Object.isFrozen(row));
  });

  test('follows a policy whose JobACL changes or goes', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertPolicies(...policies));
    applyOk(
      store,
      upsertPolicies(makePolicy({ Name: 'p1', JobACL: jobAcl('other', 'J') }), makePolicy({ Name: 'p2' })),
    );
    applyOk(store, entry('acl-policy-delete', { names: ['p8'] }));
    assert.deepEqual(names(store.aclPoliciesForJob('ns', 'J')), ['p3', 'p4', 'p5']);
    assert.deepEqual(names(store.aclPoliciesForJob('other', 'J')), ['p1']);
  });

  test('rejected delete keeps job index', () => {
    const store = bootstrappedStore();
    applyOk(store, upsertPolicies(...policies));
    rejection(applyNext(store, entry('acl-policy-delete', { names: ['p1', 'p8', 'nope'] })));
    assert.deepEqual(names(store.aclPoliciesForJob('ns', 'J')), ['p1', 'p2', 'p3', 'p4', 'p5', 'p8']);
  });
});
