import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { ALL_NAMESPACES, namespaceParam, prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { allocStubs } from './allocations.js';
import { notFound } from './not-found.js';

/**
 * Evaluation list and read, and the allocations an evaluation placed, as in Nomad. All need
 * read-job in the evaluation's namespace.
 */
export function registerEvaluationRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/evaluations', listEvaluations);
  router.on('GET', '/v1/evaluation/:id', readEvaluation);
  router.on('GET', '/v1/evaluation/:id/allocations', listEvaluationAllocations);
}

async function listEvaluations(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  authorize(request, (acl) => acl.allowNamespaceOperation(namespace, 'read-job'));
  const { acl } = request.acl;
  const { state } = request.backend;
  return blockingRead(request, 'evals', () => {
    const evals = state
      .evaluations()
      .filter((evaluation) => namespace === ALL_NAMESPACES || evaluation.Namespace === namespace)
      .filter((evaluation) => evaluation.ID.startsWith(prefix))
      .filter((evaluation) => acl.allowNamespaceOperation(evaluation.Namespace, 'read-job'));
    return { index: state.tableIndex('evals'), reply: jsonReply(evals) };
  });
}

/**
 * Reads one evaluation. A caller that may read jobs in no namespace at all is denied before the
 * lookup, so it cannot tell which IDs exist.
 */
async function readEvaluation(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  authorize(request, (acl) => acl.allowNamespaceOperation(ALL_NAMESPACES, 'read-job'));
  const { state } = request.backend;
  return blockingRead(request, 'evals', () => {
    const evaluation = state.evaluation(id);
    if (evaluation === null) return { index: state.tableIndex('evals'), reply: notFound('eval not found') };
    authorize(request, (acl) => acl.allowNamespaceOperation(evaluation.Namespace, 'read-job'));
    return { index: evaluation.ModifyIndex, reply: jsonReply(evaluation) };
  });
}

async function listEvaluationAllocations(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  authorize(request, (acl) => acl.allowNamespaceOperation(ALL_NAMESPACES, 'read-job'));
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const evaluation = state.evaluation(id);
    if (evaluation !== null) {
      authorize(request, (acl) => acl.allowNamespaceOperation(evaluation.Namespace, 'read-job'));
    }
    const allocs =
      evaluation === null
        ? []
        : state
            .allocationsByJob(evaluation.Namespace, evaluation.JobID)
            .filter((alloc) => alloc.EvalID === id);
    return { index: state.tableIndex('allocs'), reply: jsonReply(allocStubs(state, allocs)) };
  });
}
