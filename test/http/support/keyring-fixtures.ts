import type { Allocation } from '../../../src/structs/allocation.js';
import type { Evaluation } from '../../../src/structs/evaluation.js';
import { jobInput, registerNode, testAllocation, testNode } from './fixtures.js';
import type { TestBackend } from './test-backend.js';

/**
 * Registers a job through the API at `url` and places one running allocation of it on a new
 * node, recorded as signed with root key `keyId`, so that the key counts as in use.
 */
export async function placeAllocationSignedWith(
  backend: TestBackend,
  url: string,
  keyId: string,
  jobId = 'signed',
): Promise<Allocation> {
  const node = testNode();
  await registerNode(backend, node);
  const response = await fetch(`${url}/v1/jobs`, {
    method: 'PUT',
    body: JSON.stringify({ Job: jobInput(jobId) }),
  });
  const { EvalID } = (await response.json()) as { EvalID: string };
  const evaluation = backend.state.evaluation(EvalID)!;
  const job = backend.state.job(evaluation.Namespace, evaluation.JobID)!;

  const signed: Allocation = {
    ...testAllocation(job, node, evaluation),
    ClientStatus: 'running',
    // The key checks read only SigningKeyID, never the token, so any compact JWS shape will do.
    SignedIdentities: { server: 'eyJhbGciOiJFZERTQSJ9.e30.c2lnbmF0dXJl' },
    SigningKeyID: keyId,
  };
  const now = Date.now() * 1_000_000;
  const done: Evaluation = { ...evaluation, Status: 'complete', ModifyTime: now };
  await backend.apply({ type: 'plan-apply', v: 2, place: [signed], stop: [], evals: [done], time: now });
  return backend.state.allocation(signed.ID)!;
}
