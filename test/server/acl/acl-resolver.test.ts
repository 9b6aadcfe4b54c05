import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANAGEMENT_ACL } from '../../../src/acl/index.js';
import { AclResolver, type AclResolverDeps } from '../../../src/server/acl/acl-resolver.js';
import type { Principal } from '../../../src/server/backend.js';
import { RequestError } from '../../../src/server/request-error.js';
import type { StateStore } from '../../../src/state/store.js';
import { applyOk, bootstrappedStore, entry } from '../../state/workload-fixtures.js';
import { capturingLogger, LEVEL, T0_MS } from '../keyring/support.js';
import {
  accessorId,
  jobAcl,
  makePolicy,
  managementToken,
  putPolicies,
  putTokens,
  secretId,
  workloadPrincipal,
} from './support.js';

const READ_DEFAULT = 'namespace "default" { policy = "read" }';
const WRITE_DEFAULT = 'namespace "default" { policy = "write" }';
const SHARED_VARIABLES = 'namespace "shared" { variables { path "*" { capabilities = ["read"] } } }';

/** Nanoseconds per millisecond: token times are Unix nanoseconds, the clock Unix milliseconds. */
const NS_PER_MS = 1_000_000;

function resolver(store: StateStore, overrides: Partial<AclResolverDeps> = {}): AclResolver {
  return new AclResolver({ state: store, enabled: true, now: () => T0_MS, ...overrides });
}

function token(n: number): Principal {
  return { kind: 'acl-token', secretId: secretId(n) };
}

function assertRejected(run: () => unknown, status: number, message: string): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
    assert.equal(err.status, status);
    assert.equal(err.message, message);
    return true;
  });
}

describe('AclResolver with ACLs disabled', () => {
  test('every principal gets allow-all', () => {
    const store = bootstrappedStore();
    const acls = resolver(store, { enabled: false });
    // No token is stored, so with ACLs enabled each of these would be denied or rejected.
    for (const principal of [null, token(1), workloadPrincipal()]) {
      const resolved = acls.resolve(principal);
      assert.equal(resolved.acl, MANAGEMENT_ACL);
      assert.equal(resolved.token, null);
    }
  });

  test('workload keeps its scope', () => {
    const acls = resolver(bootstrappedStore(), { enabled: false });
    const resolved = acls.resolve(workloadPrincipal());
    assert.deepEqual(resolved.workload, {
      namespace: 'default',
      jobId: 'web',
      group: 'frontend',
      task: 'server',
    });
  });
});

describe('AclResolver for anonymous requests', () => {
  test('no anonymous policy denies all', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT });
    const resolved = resolver(store).resolve(null);
    assert.equal(resolved.acl.isManagement(), false);
    assert.equal(resolved.acl.allowNamespaceOperation('default', 'read-job'), false);
    assert.equal(resolved.acl.allowNamespace('*'), false);
    assert.equal(resolved.acl.agentRead(), false);
    assert.equal(resolved.acl.nodeRead(), false);
    assert.equal(resolved.token, null);
    assert.equal(resolved.workload, null);
  });

  test('anonymous policy applies when stored', () => {
    const store = bootstrappedStore();
    const acls = resolver(store);
    putPolicies(store, { Name: 'anonymous', Rules: `${READ_DEFAULT}\nnode { policy = "read" }` });
    const resolved = acls.resolve(null);
    assert.equal(resolved.acl.allowNamespaceOperation('default', 'read-job'), true);
    assert.equal(resolved.acl.allowNamespaceOperation('default', 'submit-job'), false);
    assert.equal(resolved.acl.nodeRead(), true);
    assert.equal(resolved.acl.isManagement(), false);
  });
});

describe('AclResolver for ACL tokens', () => {
  test('management token gets the management ACL', () => {
    const store = bootstrappedStore();
    putTokens(store, managementToken(1));
    const resolved = resolver(store).resolve(token(1));
    assert.equal(resolved.acl, MANAGEMENT_ACL);
    assert.equal(resolved.token?.AccessorID, managementToken(1).AccessorID);
    assert.equal(resolved.workload, null);
  });

  test('client token gets its policies', () => {
    const store = bootstrappedStore();
    putPolicies(
      store,
      { Name: 'readonly', Rules: READ_DEFAULT },
      { Name: 'agent-reader', Rules: 'agent { policy = "read" }' },
      { Name: 'writer', Rules: WRITE_DEFAULT },
    );
    putTokens(store, { Policies: ['readonly', 'agent-reader'] });
    const resolved = resolver(store).resolve(token(1));
    assert.equal(resolved.acl.isManagement(), false);
    assert.equal(resolved.acl.allowNamespaceOperation('default', 'read-job'), true);
    assert.equal(resolved.acl.allowNamespaceOperation('default', 'submit-job'), false);
    assert.equal(resolved.acl.agentRead(), true);
    assert.equal(resolved.acl.nodeRead(), false);
    assert.deepEqual(resolved.token?.Policies, ['readonly', 'agent-reader']);
  });

  test('dangling policy names are ignored', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT });
    putTokens(
      store,
      { Policies: ['gone', 'readonly'] },
      { AccessorID: accessorId(2), SecretID: secretId(2), Policies: ['gone'] },
    );
    const acls = resolver(store);

    const partly = acls.resolve(token(1));
    assert.equal(partly.acl.allowNamespaceOperation('default', 'read-job'), true);

    const dangling = acls.resolve(token(2));
    assert.equal(dangling.acl.isManagement(), false);
    assert.equal(dangling.acl.allowNamespaceOperation('default', 'read-job'), false);
    assert.equal(dangling.acl.allowNamespace('*'), false);
  });

  test('expired token is rejected', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT });
    const expiresMs = T0_MS + 60_000;
    putTokens(store, { ExpirationTime: expiresMs * NS_PER_MS });
    const clock = { now: expiresMs - 1 };
    const acls = resolver(store, { now: () => clock.now });

    assert.equal(acls.resolve(token(1)).acl.allowNamespaceOperation('default', 'read-job'), true);
    clock.now = expiresMs;
    assert.equal(
      acls.resolve(token(1)).token?.AccessorID,
      accessorId(1),
      'not expired at its expiration time',
    );
    clock.now = expiresMs + 1;
    assertRejected(() => acls.resolve(token(1)), 403, 'ACL token expired');
  });

  test('unknown token is rejected', () => {
    const store = bootstrappedStore();
    putTokens(store, managementToken(1));
    assertRejected(() => resolver(store).resolve(token(9)), 403, 'ACL token not found');
  });

  test('deleted token is rejected', () => {
    const store = bootstrappedStore();
    putTokens(store, managementToken(1));
    const acls = resolver(store);
    assert.equal(acls.resolve(token(1)).acl.isManagement(), true);
    applyOk(store, entry('acl-token-delete', { accessorIds: [managementToken(1).AccessorID] }));
    assertRejected(() => acls.resolve(token(1)), 403, 'ACL token not found');
  });

  test('prepare rejects what resolve rejects', async () => {
    const store = bootstrappedStore();
    await assert.rejects(resolver(store).prepare(token(9)), (err: unknown) => {
      assert.ok(err instanceof RequestError);
      assert.equal(err.status, 403);
      assert.equal(err.message, 'ACL token not found');
      return true;
    });
  });

  test('prepare then resolve gives the policies', async () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT }, { Name: 'writer', Rules: WRITE_DEFAULT });
    putTokens(store, { Policies: ['readonly', 'writer'] });
    const acls = resolver(store);
    await acls.prepare(token(1));
    assert.equal(acls.resolve(token(1)).acl.allowNamespaceOperation('default', 'submit-job'), true);
  });
});

describe('AclResolver for workload identities', () => {
  function workloadStore(): StateStore {
    const store = bootstrappedStore();
    putPolicies(
      store,
      { Name: 'job-wide', Rules: 'agent { policy = "read" }', JobACL: jobAcl('default', 'web') },
      {
        Name: 'group-level',
        Rules: 'node { policy = "read" }',
        JobACL: jobAcl('default', 'web', 'frontend'),
      },
      {
        Name: 'task-level',
        Rules: SHARED_VARIABLES,
        JobACL: jobAcl('default', 'web', 'frontend', 'server'),
      },
      {
        Name: 'other-task',
        Rules: 'operator { policy = "read" }',
        JobACL: jobAcl('default', 'web', 'frontend', 'sidecar'),
      },
      {
        Name: 'other-group',
        Rules: 'quota { policy = "read" }',
        JobACL: jobAcl('default', 'web', 'backend'),
      },
      { Name: 'whole-namespace', Rules: 'plugin { policy = "list" }', JobACL: jobAcl('default') },
      { Name: 'other-job', Rules: WRITE_DEFAULT, JobACL: jobAcl('default', 'api') },
      { Name: 'tokens-only', Rules: WRITE_DEFAULT },
    );
    return store;
  }

  test('job, group and task policies apply', () => {
    const resolved = resolver(workloadStore()).resolve(workloadPrincipal());
    const { acl } = resolved;
    assert.equal(acl.agentRead(), true, 'job-wide');
    assert.equal(acl.nodeRead(), true, 'group-level');
    assert.equal(
      acl.allowVariableOperation('shared', 'config', 'read', resolved.workload),
      true,
      'task-level',
    );
    assert.equal(acl.pluginList(), true, 'whole-namespace');
    assert.equal(acl.operatorRead(), false, 'other-task');
    assert.equal(acl.quotaRead(), false, 'other-group');
    assert.equal(acl.allowNamespaceOperation('default', 'submit-job'), false, 'other-job and tokens-only');
    assert.equal(acl.isManagement(), false);
    assert.equal(resolved.token, null);
  });

  test('another task misses task policies', () => {
    const resolved = resolver(workloadStore()).resolve(workloadPrincipal({ task: 'sidecar' }));
    const { acl } = resolved;
    assert.equal(acl.operatorRead(), true, 'other-task is this task');
    assert.equal(acl.allowVariableOperation('shared', 'config', 'read', resolved.workload), false);
    assert.equal(acl.nodeRead(), true, 'group-level');
  });

  test('child job gets the parent policies', () => {
    const principal = workloadPrincipal({ jobId: 'web', allocJobId: 'web/dispatch-1700000000-abcd1234' });
    assert.equal(resolver(workloadStore()).resolve(principal).acl.agentRead(), true);
  });

  test('no policy denies all but implicit paths', () => {
    const store = workloadStore();
    const resolved = resolver(store).resolve(workloadPrincipal({ namespace: 'prod', jobId: 'batch' }));
    const { acl, workload } = resolved;
    assert.deepEqual(workload, { namespace: 'prod', jobId: 'batch', group: 'frontend', task: 'server' });
    assert.equal(acl.isManagement(), false);
    assert.equal(acl.allowNamespace('prod'), false);
    assert.equal(acl.agentRead(), false);
    assert.equal(acl.allowVariableOperation('prod', 'nomad/jobs/batch', 'read', workload), true);
    assert.equal(acl.allowVariableOperation('prod', 'nomad/jobs/batch', 'write', workload), false);
    assert.equal(acl.allowVariableOperation('prod', 'nomad/jobs/other', 'read', workload), false);
  });
});

describe('AclResolver caches', () => {
  test('unchanged policies reuse the compiled ACL', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT });
    putTokens(store, { Policies: ['readonly'] });
    const acls = resolver(store);
    assert.equal(acls.resolve(token(1)).acl, acls.resolve(token(1)).acl);
  });

  test('policy change takes effect at once', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT });
    putTokens(store, { Policies: ['readonly'] });
    const acls = resolver(store);
    const before = acls.resolve(token(1)).acl;
    assert.equal(before.allowNamespaceOperation('default', 'submit-job'), false);

    putPolicies(store, { Name: 'readonly', Rules: WRITE_DEFAULT });
    const after = acls.resolve(token(1)).acl;
    assert.notEqual(after, before);
    assert.equal(after.allowNamespaceOperation('default', 'submit-job'), true);

    applyOk(store, entry('acl-policy-delete', { names: ['readonly'] }));
    assert.equal(acls.resolve(token(1)).acl.allowNamespaceOperation('default', 'read-job'), false);
  });

  test('unrelated policy change keeps results', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'readonly', Rules: READ_DEFAULT });
    putTokens(store, { Policies: ['readonly'] });
    const acls = resolver(store);
    acls.resolve(token(1));
    putPolicies(store, { Name: 'unrelated', Rules: WRITE_DEFAULT });
    const after = acls.resolve(token(1)).acl;
    assert.equal(after.allowNamespaceOperation('default', 'read-job'), true);
    assert.equal(after.allowNamespaceOperation('default', 'submit-job'), false);
  });

  test('anonymous policy created later applies', () => {
    const store = bootstrappedStore();
    const acls = resolver(store);
    assert.equal(acls.resolve(null).acl.allowNamespaceOperation('default', 'read-job'), false);
    putPolicies(store, { Name: 'anonymous', Rules: READ_DEFAULT });
    assert.equal(acls.resolve(null).acl.allowNamespaceOperation('default', 'read-job'), true);
  });

  test('compiled cache is bounded', () => {
    const store = bootstrappedStore();
    putPolicies(
      store,
      { Name: 'p1', Rules: READ_DEFAULT },
      { Name: 'p2', Rules: READ_DEFAULT },
      { Name: 'p3', Rules: READ_DEFAULT },
    );
    putTokens(
      store,
      { AccessorID: accessorId(1), SecretID: secretId(1), Policies: ['p1'] },
      { AccessorID: accessorId(2), SecretID: secretId(2), Policies: ['p2'] },
      { AccessorID: accessorId(3), SecretID: secretId(3), Policies: ['p3'] },
    );
    const acls = resolver(store, { maxCompiledAcls: 2 });
    const first = acls.resolve(token(1)).acl;
    acls.resolve(token(2));
    assert.equal(acls.resolve(token(1)).acl, first, 'still cached with two entries');
    acls.resolve(token(2));
    acls.resolve(token(3));
    assert.notEqual(acls.resolve(token(1)).acl, first, 'evicted as least recently used');
  });

  test('workload ACL follows a policy change', async () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'web-read', Rules: READ_DEFAULT, JobACL: jobAcl('default', 'web') });
    const acls = resolver(store);
    const principal = workloadPrincipal();
    await acls.prepare(principal);
    const before = acls.resolve(principal).acl;
    assert.equal(acls.resolve(principal).acl, before, 'cached while the policies are unchanged');
    assert.equal(before.allowNamespaceOperation('default', 'submit-job'), false);

    putPolicies(store, { Name: 'web-read', Rules: WRITE_DEFAULT, JobACL: jobAcl('default', 'web') });
    await acls.prepare(principal);
    assert.equal(acls.resolve(principal).acl.allowNamespaceOperation('default', 'submit-job'), true);

    putPolicies(store, {
      Name: 'web-server',
      Rules: 'agent { policy = "read" }',
      JobACL: jobAcl('default', 'web', 'frontend', 'server'),
    });
    await acls.prepare(principal);
    assert.equal(acls.resolve(principal).acl.agentRead(), true, 'a new task policy applies');

    applyOk(store, entry('acl-policy-delete', { names: ['web-read', 'web-server'] }));
    const after = acls.resolve(principal).acl;
    assert.equal(after.allowNamespaceOperation('default', 'read-job'), false);
    assert.equal(after.agentRead(), false);
  });

  test('workload ACLs are kept per task', () => {
    const store = bootstrappedStore();
    putPolicies(store, {
      Name: 'server-only',
      Rules: 'agent { policy = "read" }',
      JobACL: jobAcl('default', 'web', 'frontend', 'server'),
    });
    const acls = resolver(store);
    assert.equal(acls.resolve(workloadPrincipal()).acl.agentRead(), true);
    assert.equal(acls.resolve(workloadPrincipal({ task: 'sidecar' })).acl.agentRead(), false);
    assert.equal(acls.resolve(workloadPrincipal({ group: 'backend' })).acl.agentRead(), false);
    assert.equal(acls.resolve(workloadPrincipal()).acl.agentRead(), true);
  });

  test('workload ACL cache is bounded', () => {
    const store = bootstrappedStore();
    putPolicies(
      store,
      { Name: 'web-read', Rules: READ_DEFAULT, JobACL: jobAcl('default', 'web') },
      {
        Name: 'sidecar-agent',
        Rules: 'agent { policy = "read" }',
        JobACL: jobAcl('default', 'web', 'frontend', 'sidecar'),
      },
    );
    const acls = resolver(store, { maxWorkloadAcls: 1, maxCompiledAcls: 1 });
    const first = acls.resolve(workloadPrincipal()).acl;
    assert.equal(acls.resolve(workloadPrincipal()).acl, first, 'still cached with one entry');
    // Another policy set evicts the first from both caches of one entry each.
    acls.resolve(workloadPrincipal({ task: 'sidecar' }));
    assert.notEqual(acls.resolve(workloadPrincipal()).acl, first, 'evicted, so compiled again');
  });

  test('same policy set shares one ACL', () => {
    const store = bootstrappedStore();
    putPolicies(store, { Name: 'a', Rules: READ_DEFAULT }, { Name: 'b', Rules: 'agent { policy = "read" }' });
    putTokens(
      store,
      { AccessorID: accessorId(1), SecretID: secretId(1), Policies: ['a', 'b'] },
      { AccessorID: accessorId(2), SecretID: secretId(2), Policies: ['b', 'a'] },
    );
    const acls = resolver(store);
    assert.equal(acls.resolve(token(1)).acl, acls.resolve(token(2)).acl);
  });
});

describe('AclResolver with a stored policy that does not parse', () => {
  test('fails with 500 and logs once', () => {
    const store = bootstrappedStore();
    // Apply never parses rules, so a stored policy that no longer parses can exist, for example
    // after a parser change between versions.
    applyOk(
      store,
      entry('acl-policy-upsert', {
        policies: [makePolicy({ Name: 'broken', Rules: 'namespace "default" {' })],
      }),
    );
    putTokens(store, { Policies: ['broken'] });
    const { logger, lines } = capturingLogger();
    const acls = resolver(store, { logger });

    for (let attempt = 0; attempt < 2; attempt++) {
      assert.throws(
        () => acls.resolve(token(1)),
        (err: unknown) => err instanceof RequestError && err.status === 500 && /"broken"/.test(err.message),
      );
    }
    const errors = lines.filter((line) => line.level === LEVEL.error);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.policy, 'broken');
    assert.equal(errors[0]?.code, 'SYNTAX');
  });
});
