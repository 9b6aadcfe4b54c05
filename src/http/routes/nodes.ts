import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { allocStubs } from './allocations.js';
import { notFound } from './not-found.js';
import { nodeListStub, publicNode } from './views.js';

/**
 * Node list and read, and a node's allocations, as in Nomad. No reply contains a SecretID. All
 * need node:read, and a node's allocation list keeps only those in namespaces that grant read-job.
 */
export function registerNodeRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/nodes', listNodes);
  router.on('GET', '/v1/node/:id', readNode);
  router.on('GET', '/v1/node/:id/allocations', listNodeAllocations);
}

async function listNodes(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.nodeRead());
  const prefix = prefixParam(request.query);
  const { state } = request.backend;
  return blockingRead(request, 'nodes', () => {
    const nodes = state.nodes().filter((node) => node.ID.startsWith(prefix));
    return { index: state.tableIndex('nodes'), reply: jsonReply(nodes.map(nodeListStub)) };
  });
}

async function readNode(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.nodeRead());
  const id = request.params.id!;
  const { state } = request.backend;
  return blockingRead(request, 'nodes', () => {
    const node = state.node(id);
    if (node === null) return { index: state.tableIndex('nodes'), reply: notFound('node not found') };
    return { index: node.ModifyIndex, reply: jsonReply(publicNode(node)) };
  });
}

async function listNodeAllocations(request: ApiRequest): Promise<ApiReply> {
  const id = request.params.id!;
  authorize(request, (acl) => acl.nodeRead());
  const { acl } = request.acl;
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const allocs = state
      .allocationsByNode(id)
      .filter((alloc) => acl.allowNamespaceOperation(alloc.Namespace, 'read-job'));
    return { index: state.tableIndex('allocs'), reply: jsonReply(allocStubs(state, allocs)) };
  });
}
