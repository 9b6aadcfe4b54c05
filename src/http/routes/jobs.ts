import { RequestError } from '../../server/request-error.js';
import type { Job } from '../../structs/job.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { booleanParam, namespaceParam, prefixParam, singleNamespaceParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { jobFromRequest } from './job-request.js';
import { notFound } from './not-found.js';
import { allocListStub, jobListStub } from './views.js';

/**
 * Job list, read, register, deregister, and a job's allocations and evaluations, as in Nomad. They
 * need Nomad's namespace capabilities: list-jobs to list, read-job to read, and submit-job or
 * register-job to register. A purge needs submit-job or purge-job, and a stop also takes
 * deregister-job.
 */
export function registerJobRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/jobs', listJobs);
  router.on(['PUT', 'POST'], '/v1/jobs', (request) => registerJob(request, null));
  router.on('GET', '/v1/job/:id', readJob);
  router.on(['PUT', 'POST'], '/v1/job/:id', (request) => registerJob(request, request.params.id!));
  router.on('DELETE', '/v1/job/:id', deregisterJob);
  router.on('GET', '/v1/job/:id/allocations', listJobAllocations);
  router.on('GET', '/v1/job/:id/evaluations', listJobEvaluations);
}

async function listJobs(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  // For `*`, any namespace that grants list-jobs lets the request through, and the list then
  // contains the jobs of those namespaces only.
  authorize(request, (acl) => acl.allowNamespaceOperation(namespace, 'list-jobs'));
  const { acl } = request.acl;
  const { state } = request.backend;
  return blockingRead(request, 'jobs', () => {
    const jobs = state
      .jobs(namespace)
      .filter((job) => job.ID.startsWith(prefix))
      .filter((job) => acl.allowNamespaceOperation(job.Namespace, 'list-jobs'));
    return { index: state.tableIndex('jobs'), reply: jsonReply(jobs.map(jobListStub)) };
  });
}

async function readJob(request: ApiRequest): Promise<ApiReply> {
  const namespace = singleNamespaceParam(request.query);
  const id = request.params.id!;
  authorize(request, (acl) => acl.allowNamespaceOperation(namespace, 'read-job'));
  const { state } = request.backend;
  // The index of a found job is its ModifyIndex, so a blocking read wakes only when it changes.
  return blockingRead(request, 'jobs', () => {
    const job = state.job(namespace, id);
    if (job === null) return { index: state.tableIndex('jobs'), reply: notFound('job not found') };
    return { index: job.ModifyIndex, reply: jsonReply(job) };
  });
}

async function registerJob(request: ApiRequest, pathJobId: string | null): Promise<ApiReply> {
  // The namespace comes from the body, so the job is read and validated first, as Nomad does.
  const job = await jobFromRequest(request, pathJobId);
  authorize(
    request,
    (acl) =>
      acl.allowNamespaceOperation(job.Namespace, 'submit-job') ||
      acl.allowNamespaceOperation(job.Namespace, 'register-job'),
  );
  await checkNamespaceExists(request, job);
  const result = await request.backend.registerJob(job);
  const index = String(result.Index);
  return jsonReply(
    {
      EvalID: result.EvalID,
      EvalCreateIndex: result.EvalCreateIndex,
      JobModifyIndex: result.JobModifyIndex,
      // Signet has no registration warnings; Nomad sends them as one string, empty when none.
      Warnings: '',
      Index: result.Index,
      LastIndex: result.Index,
    },
    { 'X-Nomad-Index': index },
  );
}

/**
 * Rejects a job whose namespace does not exist, with Nomad's message. This server's state may lag
 * behind a namespace just created elsewhere, so a miss is checked again after a consistent read,
 * unless the server made one for this request already.
 */
async function checkNamespaceExists(request: ApiRequest, job: Job): Promise<void> {
  const { backend } = request;
  if (backend.state.namespace(job.Namespace) !== null) return;
  if (!request.consistent) {
    await backend.consistentRead();
    if (backend.state.namespace(job.Namespace) !== null) return;
  }
  throw new RequestError(
    400,
    `job ${JSON.stringify(job.ID)} is in nonexistent namespace ${JSON.stringify(job.Namespace)}`,
  );
}

async function deregisterJob(request: ApiRequest): Promise<ApiReply> {
  const namespace = singleNamespaceParam(request.query);
  const purge = booleanParam(request.query, 'purge');
  authorize(
    request,
    (acl) =>
      acl.allowNamespaceOperation(namespace, 'submit-job') ||
      acl.allowNamespaceOperation(namespace, 'purge-job') ||
      (!purge && acl.allowNamespaceOperation(namespace, 'deregister-job')),
  );
  const result = await request.backend.deregisterJob(namespace, request.params.id!, purge);
  // The evaluation and the job change are one Raft entry, so both indexes are the entry's.
  return jsonReply(
    {
      EvalID: result.EvalID,
      EvalCreateIndex: result.Index,
      JobModifyIndex: result.Index,
      Index: result.Index,
    },
    { 'X-Nomad-Index': String(result.Index) },
  );
}

async function listJobAllocations(request: ApiRequest): Promise<ApiReply> {
  const namespace = singleNamespaceParam(request.query);
  const id = request.params.id!;
  authorize(request, (acl) => acl.allowNamespaceOperation(namespace, 'read-job'));
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const jobType = state.job(namespace, id)?.Type ?? '';
    const stubs = state.allocationsByJob(namespace, id).map((alloc) => allocListStub(alloc, jobType));
    return { index: state.tableIndex('allocs'), reply: jsonReply(stubs) };
  });
}

async function listJobEvaluations(request: ApiRequest): Promise<ApiReply> {
  const namespace = singleNamespaceParam(request.query);
  const id = request.params.id!;
  authorize(request, (acl) => acl.allowNamespaceOperation(namespace, 'read-job'));
  const { state } = request.backend;
  return blockingRead(request, 'evals', () => ({
    index: state.tableIndex('evals'),
    reply: jsonReply(state.evaluationsByJob(namespace, id)),
  }));
}
