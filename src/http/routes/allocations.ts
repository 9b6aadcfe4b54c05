import type { StateStore } from '../../state/store.js';
import type { Allocation } from '../../structs/allocation.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { ALL_NAMESPACES, namespaceParam, prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { notFound } from './not-found.js';
import { type AllocListStub, allocListStub, publicAllocation } from './views.js';

/**
 * Allocation list and read, as in Nomad. Neither ever returns signed workload identities. Both
 * need read-job in the allocations' namespace.
 */
export function registerAllocationRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/allocations', listAllocations);
  router.on('GET', '/v1/allocation/:id', readAllocation);
}

async function listAllocations(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  authorize(request, (acl) => acl.allowNamespaceOperation(namespace, 'read-job'));
  const { acl } = request.acl;
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const allocs = state
      .allocations()
      .filter((alloc) => namespace === ALL_NAMESPACES || alloc.Namespace === namespace)
      .filter((alloc) => alloc.ID.startsWith(prefix))
      .filter((alloc) => acl.allowNamespaceOperation(alloc.Namespace, 'read-job'));
    return { index: state.tableIndex('allocs'), reply: jsonReply(allocStubs(state, allocs)) };
  });
}

/**
 * Reads one allocation, which needs read-job in its namespace. A caller that may read jobs in no
 * namespace at all is denied before the lookup, so it cannot tell which IDs exist.
 */
async function readAllocation(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  authorize(request, (acl) => acl.allowNamespaceOperation(ALL_NAMESPACES, 'read-job'));
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const alloc = state.allocation(id);
    if (alloc === null) return { index: state.tableIndex('allocs'), reply: notFound('alloc not found') };
    authorize(request, (acl) => acl.allowNamespaceOperation(alloc.Namespace, 'read-job'));
    return { index: alloc.ModifyIndex, reply: jsonReply(publicAllocation(alloc)) };
  });
}

/** List stubs of `allocs`, each with the type of its job looked up in `state`. */
export function allocStubs(state: StateStore, allocs: readonly Allocation[]): AllocListStub[] {
  return allocs.map((alloc) => allocListStub(alloc, state.job(alloc.Namespace, alloc.JobID)?.Type ?? ''));
}
