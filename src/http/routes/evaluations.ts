import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { blockingRead } from '../blocking-read.js';
import { ALL_NAMESPACES, namespaceParam, prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { allocStubs } from './allocations.js';
import { notFound } from './not-found.js';

/** Evaluation list and read, and the allocations an evaluation placed, as in Nomad. */
export function registerEvaluationRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/evaluations', listEvaluations);
  router.on('GET', '/v1/evaluation/:id', readEvaluation);
  router.on('GET', '/v1/evaluation/:id/allocations', listEvaluationAllocations);
}

async function listEvaluations(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  const { state } = request.backend;
  return blockingRead(request, 'evals', () => {
    const evals = state
      .evaluations()
      .filter((evaluation) => namespace === ALL_NAMESPACES || evaluation.Namespace === namespace)
      .filter((evaluation) => evaluation.ID.startsWith(prefix));
    return { index: state.tableIndex('evals'), reply: jsonReply(evals) };
  });
}

async function readEvaluation(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  const { state } = request.backend;
  return blockingRead(request, 'evals', () => {
    const evaluation = state.evaluation(id);
    if (evaluation === null) return { index: state.tableIndex('evals'), reply: notFound('eval not found') };
    return { index: evaluation.ModifyIndex, reply: jsonReply(evaluation) };
  });
}

async function listEvaluationAllocations(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const evaluation = state.evaluation(id);
    const allocs =
      evaluation === null
        ? []
        : state
            .allocationsByJob(evaluation.Namespace, evaluation.JobID)
            .filter((alloc) => alloc.EvalID === id);
    return { index: state.tableIndex('allocs'), reply: jsonReply(allocStubs(state, allocs)) };
  });
}
