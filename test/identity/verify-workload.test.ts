import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  IdentityError,
  identityClaims,
  signIdentity,
  type VerifyWorkloadIdentityOptions,
  verifyWorkloadIdentity,
} from '../../src/identity/index.js';
import type { SigningKey } from '../../src/keyring/index.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Job } from '../../src/structs/job.js';
import { keyLookup, makeAlloc, makeJob, makeSigningKey, makeTask, NOW_MS } from './fixtures.js';

/** Signs the identity of `task` in `alloc` as the plan applier would, for `job`. */
function tokenFor(key: SigningKey, alloc: Allocation, job: Job, task = 'server'): string {
  return signIdentity(
    key,
    identityClaims({ alloc, job, task: makeTask(task), region: 'global', now: NOW_MS }),
  );
}

function options(
  key: SigningKey,
  allocs: Allocation[],
  jobs: Job[] | null = null,
): VerifyWorkloadIdentityOptions {
  const byId = new Map(allocs.map((alloc) => [alloc.ID, alloc]));
  const base = { key: keyLookup(key).key, now: NOW_MS, allocation: (id: string) => byId.get(id) ?? null };
  if (jobs === null) return base;
  return {
    ...base,
    job: (namespace: string, id: string) =>
      jobs.find((job) => job.Namespace === namespace && job.ID === id) ?? null,
  };
}

async function rejection(token: string, opts: VerifyWorkloadIdentityOptions): Promise<IdentityError> {
  try {
    await verifyWorkloadIdentity(token, opts);
  } catch (err) {
    assert.ok(err instanceof IdentityError, `expected an IdentityError, got ${String(err)}`);
    assert.equal(err.message.includes(token), false, 'message contains the token');
    return err;
  }
  assert.fail('verification succeeded');
}

describe('verifyWorkloadIdentity', () => {
  test('running allocation is accepted', async () => {
    const key = makeSigningKey();
    const alloc = makeAlloc();
    const result = await verifyWorkloadIdentity(tokenFor(key, alloc, makeJob()), options(key, [alloc]));
    assert.equal(result.alloc, alloc);
    assert.equal(result.claims.nomad_allocation_id, alloc.ID);
    assert.equal(result.claims.nomad_task, 'server');
  });

  test('missing allocation', async () => {
    const key = makeSigningKey();
    const alloc = makeAlloc();
    const error = await rejection(tokenFor(key, alloc, makeJob()), options(key, [makeAlloc()]));
    assert.equal(error.code, 'ALLOCATION_NOT_FOUND');
    assert.equal(error.allocationId, alloc.ID);
    assert.equal(error.keyId, key.keyId);
  });

  test('terminal allocation', async () => {
    const key = makeSigningKey();
    for (const ClientStatus of ['complete', 'failed', 'lost'] as const) {
      const alloc = makeAlloc({ ClientStatus, DesiredStatus: 'stop' });
      const error = await rejection(tokenFor(key, alloc, makeJob()), options(key, [alloc]));
      assert.equal(error.code, 'ALLOCATION_TERMINAL', ClientStatus);
      assert.equal(error.allocationId, alloc.ID);
    }
  });

  test('stopping allocation keeps access', async () => {
    // Only the client status ends an identity, so post-stop tasks can still call the servers.
    const key = makeSigningKey();
    const alloc = makeAlloc({ DesiredStatus: 'stop', ClientStatus: 'running' });
    const result = await verifyWorkloadIdentity(tokenFor(key, alloc, makeJob()), options(key, [alloc]));
    assert.equal(result.alloc.ID, alloc.ID);
  });

  test('claims that mismatch', async () => {
    const key = makeSigningKey();
    const alloc = makeAlloc();
    const cases: Record<string, string> = {
      nomad_namespace: tokenFor(key, { ...alloc, Namespace: 'other' }, makeJob()),
      nomad_job_id: tokenFor(key, alloc, makeJob({ ID: 'api' })),
      nomad_task: tokenFor(key, alloc, makeJob(), 'sidecar'),
    };
    for (const [claim, token] of Object.entries(cases)) {
      const error = await rejection(token, options(key, [alloc], [makeJob()]));
      assert.equal(error.code, 'CLAIMS_MISMATCH', claim);
      assert.equal(error.allocationId, alloc.ID, claim);
      assert.ok(error.message.includes(claim), `message names ${claim}: ${error.message}`);
    }
  });

  test('task signed but not in resources', async () => {
    const key = makeSigningKey();
    const alloc = makeAlloc({ SignedIdentities: { sidecar: 'a.b.c' } });
    const result = await verifyWorkloadIdentity(
      tokenFor(key, alloc, makeJob(), 'sidecar'),
      options(key, [alloc]),
    );
    assert.equal(result.claims.nomad_task, 'sidecar');
  });

  test('child job token names its parent', async () => {
    const key = makeSigningKey();
    const child = makeJob({ ID: 'batch/dispatch-1', ParentID: 'batch' });
    const alloc = makeAlloc({ JobID: child.ID });
    const token = tokenFor(key, alloc, child);

    const result = await verifyWorkloadIdentity(token, options(key, [alloc], [child]));
    assert.equal(result.claims.nomad_job_id, 'batch');

    // Without the job, nothing confirms that `batch` is the parent.
    assert.equal((await rejection(token, options(key, [alloc]))).code, 'CLAIMS_MISMATCH');
    // Another job's parent does not count.
    const stranger = makeJob({ ID: 'batch/dispatch-1', ParentID: 'other' });
    assert.equal((await rejection(token, options(key, [alloc], [stranger]))).code, 'CLAIMS_MISMATCH');
  });

  test('token checks come first', async () => {
    const key = makeSigningKey();
    const alloc = makeAlloc({ ClientStatus: 'complete' });
    const unknownKey = makeSigningKey();
    const error = await rejection(tokenFor(unknownKey, alloc, makeJob()), options(key, [alloc]));
    assert.equal(error.code, 'KEY_UNKNOWN');
  });
});
