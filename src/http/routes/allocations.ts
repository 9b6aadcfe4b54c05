import type { StateStore } from '../../state/store.js';
import type { Allocation } from '../../structs/allocation.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { blockingRead } from '../blocking-read.js';
import { ALL_NAMESPACES, namespaceParam, prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { notFound } from './not-found.js';
import { type AllocListStub, allocListStub, publicAllocation } from './views.js';

/** Allocation list and read, as in Nomad. Neither ever returns signed workload identities. */
export function registerAllocationRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/allocations', listAllocations);
  router.on('GET', '/v1/allocation/:id', readAllocation);
}

async function listAllocations(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const allocs = state
      .allocations()
      .filter((alloc) => namespace === ALL_NAMESPACES || alloc.Namespace === namespace)
      .filter((alloc) => alloc.ID.startsWith(prefix));
    return { index: state.tableIndex('allocs'), reply: jsonReply(allocStubs(state, allocs)) };
  });
}

async function readAllocation(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const alloc = state.allocation(id);
    if (alloc === null) return { index: state.tableIndex('allocs'), reply: notFound('alloc not found') };
    return { index: alloc.ModifyIndex, reply: jsonReply(publicAllocation(alloc)) };
  });
}

/** List stubs of `allocs`, each with the type of its job looked up in `state`. */
export function allocStubs(state: StateStore, allocs: readonly Allocation[]): AllocListStub[] {
  return allocs.map((alloc) => allocListStub(alloc, state.job(alloc.Namespace, alloc.JobID)?.Type ?? ''));
}
