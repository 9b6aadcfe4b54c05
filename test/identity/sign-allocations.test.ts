import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  IdentityError,
  type SignAllocationsContext,
  signAllocations,
  verifyWorkloadIdentity,
} from '../../src/identity/index.js';
import type { SigningKey } from '../../src/keyring/index.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Job } from '../../src/structs/job.js';
import { headerOf, keyLookup, makeAlloc, makeJob, makeSigningKey, makeTask, NOW_MS } from './fixtures.js';

const TWO_TASKS = makeJob({
  TaskGroups: [{ Name: 'frontend', Count: 1, Tasks: [makeTask('server'), makeTask('sidecar')] }],
});

function twoTaskAlloc(overrides: Partial<Allocation> = {}): Allocation {
  return Object.freeze(
    makeAlloc({
      TaskResources: { server: { CPU: 100, MemoryMB: 64 }, sidecar: { CPU: 100, MemoryMB: 64 } },
      ...overrides,
    }),
  );
}

function context(key: SigningKey, jobs: Job[], lookups: string[] = []): SignAllocationsContext {
  return {
    job: (namespace, id) => {
      lookups.push(`${namespace}/${id}`);
      return jobs.find((job) => job.Namespace === namespace && job.ID === id) ?? null;
    },
    key,
    region: 'global',
    issuer: null,
    now: NOW_MS,
  };
}

async function identityErrorOf(promise: Promise<unknown>): Promise<IdentityError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof IdentityError, `expected an IdentityError, got ${String(err)}`);
    return err;
  }
  assert.fail('signing succeeded');
}

describe('signAllocations', () => {
  test('signs every task of the group', async () => {
    const key = makeSigningKey();
    const alloc = twoTaskAlloc();
    const [signed] = await signAllocations([alloc], context(key, [TWO_TASKS]));

    assert.ok(signed !== undefined);
    assert.notEqual(signed, alloc);
    assert.deepEqual(Object.keys(signed.SignedIdentities).sort(), ['server', 'sidecar']);
    assert.equal(signed.SigningKeyID, key.keyId);
    assert.deepEqual(alloc.SignedIdentities, {});
    assert.deepEqual({ ...signed, SignedIdentities: {}, SigningKeyID: '' }, alloc);

    for (const [task, token] of Object.entries(signed.SignedIdentities)) {
      assert.equal(headerOf(token).kid, key.keyId);
      const verified = await verifyWorkloadIdentity(token, {
        key: keyLookup(key).key,
        now: NOW_MS,
        allocation: (id) => (id === signed.ID ? signed : null),
      });
      assert.equal(verified.claims.nomad_task, task);
      assert.equal(verified.claims.sub, `global:default:web:frontend:${task}:default`);
    }
  });

  test('keeps existing tokens', async () => {
    const oldKey = makeSigningKey();
    const key = makeSigningKey();
    const [first] = await signAllocations([makeAlloc()], context(oldKey, [TWO_TASKS]));
    const existing = first!.SignedIdentities.server!;

    const alloc = twoTaskAlloc({ SignedIdentities: { server: existing }, SigningKeyID: oldKey.keyId });
    const [signed] = await signAllocations([alloc], context(key, [TWO_TASKS]));
    assert.equal(signed!.SignedIdentities.server, existing);
    assert.equal(headerOf(signed!.SignedIdentities.sidecar!).kid, key.keyId);
    assert.equal(signed!.SigningKeyID, key.keyId);
  });

  test('fully signed allocation is unchanged', async () => {
    const oldKey = makeSigningKey();
    const alloc = twoTaskAlloc({
      SignedIdentities: { server: 'a.b.c', sidecar: 'd.e.f' },
      SigningKeyID: oldKey.keyId,
    });
    const [signed] = await signAllocations([alloc], context(makeSigningKey(), [TWO_TASKS]));
    assert.equal(signed, alloc);
  });

  test('looks each job up once', async () => {
    const lookups: string[] = [];
    const api = makeJob({ ID: 'api' });
    const allocs = [makeAlloc(), makeAlloc({ JobID: 'api' }), makeAlloc(), makeAlloc({ JobID: 'api' })];
    const signed = await signAllocations(allocs, context(makeSigningKey(), [makeJob(), api], lookups));
    assert.deepEqual(lookups, ['default/web', 'default/api']);
    assert.deepEqual(
      signed.map((alloc) => alloc.ID),
      allocs.map((alloc) => alloc.ID),
    );
  });

  test('missing job fails', async () => {
    const alloc = makeAlloc({ JobID: 'gone' });
    const error = await identityErrorOf(
      signAllocations([makeAlloc(), alloc], context(makeSigningKey(), [makeJob()])),
    );
    assert.equal(error.code, 'JOB_NOT_FOUND');
    assert.equal(error.allocationId, alloc.ID);
    assert.ok(error.message.includes('"gone"'), error.message);
  });

  test('missing task group fails', async () => {
    const alloc = makeAlloc({ TaskGroup: 'backend' });
    const error = await identityErrorOf(signAllocations([alloc], context(makeSigningKey(), [makeJob()])));
    assert.equal(error.code, 'TASK_GROUP_NOT_FOUND');
    assert.equal(error.allocationId, alloc.ID);
    assert.ok(error.message.includes('"backend"'), error.message);
  });

  test('yields while signing 3000 tasks', async () => {
    const allocs = Array.from({ length: 3000 }, () => makeAlloc());
    let done = false;
    let immediatesDuringSigning = 0;
    let timerRanDuringSigning = false;

    // A setImmediate chain and a timer stand in for heartbeats and Raft ticks.
    const tick = (): void => {
      if (done) return;
      immediatesDuringSigning++;
      setImmediate(tick);
    };
    setImmediate(tick);
    setTimeout(() => {
      timerRanDuringSigning = !done;
    }, 0);

    const signed = await signAllocations(allocs, context(makeSigningKey(), [makeJob()]));
    done = true;

    assert.equal(signed.length, 3000);
    assert.ok(signed.every((alloc) => Object.keys(alloc.SignedIdentities).length === 1));
    assert.ok(timerRanDuringSigning, 'a timer did not run while signing');
    assert.ok(immediatesDuringSigning >= 2, `only ${immediatesDuringSigning} setImmediate callbacks ran`);
  });
});
