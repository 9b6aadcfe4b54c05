import type { VariableChangeResult } from '../../server/variables/variable-shapes.js';
import type { VariableEncrypted } from '../../state/store.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { namespaceParam, prefixParam, singleNamespaceParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { notFound } from './not-found.js';
import { casParam, rejectLockParams, variablePathParam, variableWriteFromBody } from './variable-request.js';

/**
 * Variable endpoints (`/v1/var/:path`, `/v1/vars`), with Nomad's paths, JSON and capabilities:
 * read needs `read`, write `write`, delete `destroy`, and a list returns only the variables the
 * caller may `list`, checked one by one.
 */
export function registerVariableRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/vars', listVariables);
  router.on('GET', '/v1/var/*', readVariable);
  router.on(['PUT', 'POST'], '/v1/var/*', writeVariable);
  router.on('DELETE', '/v1/var/*', deleteVariable);
}

/**
 * Lists variable metadata, filtered item by item through the caller's ACL, so that a caller
 * allowed one path never learns the paths next to it. `?namespace=*` lists every namespace.
 */
async function listVariables(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  const { acl, workload } = request.acl;
  const { backend } = request;
  return blockingRead(request, 'variables', () => {
    const visible = backend.variables
      .list(namespace, prefix)
      .filter((meta) => acl.allowVariableOperation(meta.Namespace, meta.Path, 'list', workload));
    return { index: backend.state.tableIndex('variables'), reply: jsonReply(visible) };
  });
}

async function readVariable(request: ApiRequest): Promise<ApiReply> {
  const namespace = singleNamespaceParam(request.query);
  const path = variablePathParam(request);
  const { workload } = request.acl;
  authorize(request, (acl) => acl.allowVariableOperation(namespace, path, 'read', workload));

  const { backend } = request;
  // The blocking loop runs synchronously on each change; the row it settles on is decrypted after.
  const found: { row: VariableEncrypted | null } = { row: null };
  const reply = await blockingRead(request, 'variables', () => {
    found.row = backend.state.variable(namespace, path);
    if (found.row === null) {
      return { index: backend.state.tableIndex('variables'), reply: notFound('variable not found') };
    }
    return { index: found.row.ModifyIndex, reply: jsonReply(null) };
  });
  if (found.row === null) return reply;
  const variable = await backend.variables.decrypt(found.row);
  return { ...reply, body: { kind: 'json', value: variable } };
}

async function writeVariable(request: ApiRequest): Promise<ApiReply> {
  rejectLockParams(request.query);
  const path = variablePathParam(request);
  const casIndex = casParam(request.query);
  const { namespace, items } = variableWriteFromBody(await request.readJson(), request.query, path);
  const { workload } = request.acl;
  authorize(request, (acl) => acl.allowVariableOperation(namespace, path, 'write', workload));
  const reveal = request.acl.acl.allowVariableOperation(namespace, path, 'read', workload);

  const result = await request.backend.variables.write({ namespace, path, items, casIndex }, reveal);
  if (!result.ok) return conflictReply(result);
  return jsonReply(result.variable, { 'X-Nomad-Index': String(result.index) });
}

/** Deletes a variable and replies 204, as Nomad does, or 409 with the current variable. */
async function deleteVariable(request: ApiRequest): Promise<ApiReply> {
  rejectLockParams(request.query);
  const namespace = singleNamespaceParam(request.query);
  const path = variablePathParam(request);
  const casIndex = casParam(request.query);
  const { workload } = request.acl;
  authorize(request, (acl) => acl.allowVariableOperation(namespace, path, 'destroy', workload));
  const reveal = request.acl.acl.allowVariableOperation(namespace, path, 'read', workload);

  const result = await request.backend.variables.delete({ namespace, path, casIndex }, reveal);
  if (!result.ok) return conflictReply(result);
  return { status: 204, headers: { 'X-Nomad-Index': String(result.index) }, body: { kind: 'empty' } };
}

/** Builds the 409 reply of a lost check-and-set: the current variable, with its ModifyIndex in X-Nomad-Index as Nomad sends it. */
function conflictReply(result: Extract<VariableChangeResult, { ok: false }>): ApiReply {
  const { conflict } = result;
  return jsonReply(conflict, { 'X-Nomad-Index': String(conflict.ModifyIndex) }, 409);
}
