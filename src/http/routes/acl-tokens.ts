import type { AclTokenRequest } from '../../server/acl/acl-token-request.js';
import { RequestError } from '../../server/request-error.js';
import type { AclToken } from '../../state/store.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply, writeReply } from '../api-request.js';
import { blockingRead } from '../blocking-read.js';
import { prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { requireAclEnabled, requireManagement } from './acl-access.js';
import { bootstrapSecretFromBody, tokenRequestFromBody } from './acl-bodies.js';
import { aclTokenStub, aclTokenView } from './acl-views.js';
import { notFound } from './not-found.js';

const TOKEN_NOT_FOUND = 'ACL token not found';

/** ACL bootstrap and token endpoints (`/v1/acl/bootstrap`, `/v1/acl/token(s)`), with Nomad's paths and JSON. */
export function registerAclTokenRoutes(router: ApiRouter): void {
  router.on(['PUT', 'POST'], '/v1/acl/bootstrap', bootstrapAcl, 'ignore-failures');
  router.on('GET', '/v1/acl/tokens', listTokens);
  router.on(['PUT', 'POST'], '/v1/acl/token', createToken);
  router.on('GET', '/v1/acl/token/self', readOwnToken);
  router.on('GET', '/v1/acl/token/:accessor', readToken);
  router.on(['PUT', 'POST'], '/v1/acl/token/:accessor', (request) =>
    updateToken(request, request.params.accessor!),
  );
  router.on('DELETE', '/v1/acl/token/:accessor', deleteToken);
}

/**
 * Creates the first management token. Anyone may call it, as in Nomad: it works once, and again
 * only with the reset index in the server's reset file. The body is optional. A token that fails
 * authentication leaves the request anonymous, so a stale token in the caller's environment does
 * not block a bootstrap.
 */
async function bootstrapAcl(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  const secret = hasBody(request) ? bootstrapSecretFromBody(await request.readJson()) : null;
  const token = await request.backend.acl.bootstrap(secret);
  return tokenReply(token);
}

async function listTokens(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  requireManagement(request);
  const prefix = prefixParam(request.query);
  const { state } = request.backend;
  return blockingRead(request, 'aclTokens', () => {
    const tokens = state.aclTokens().filter((token) => token.AccessorID.startsWith(prefix));
    return { index: state.tableIndex('aclTokens'), reply: jsonReply(tokens.map(aclTokenStub)) };
  });
}

async function createToken(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  requireManagement(request);
  const { accessorId, request: tokenRequest } = tokenRequestFromBody(await request.readJson());
  // A body that names an AccessorID updates that token, as Nomad's token endpoint does.
  if (accessorId !== '') return updateWith(request, accessorId, tokenRequest);
  const token = await request.backend.acl.createToken(tokenRequest);
  return tokenReply(token);
}

async function updateToken(request: ApiRequest, accessorId: string): Promise<ApiReply> {
  requireAclEnabled(request);
  requireManagement(request);
  const body = tokenRequestFromBody(await request.readJson());
  if (body.accessorId !== '' && body.accessorId !== accessorId) {
    throw new RequestError(400, 'Token AccessorID in the request body does not match the request path');
  }
  return updateWith(request, accessorId, body.request);
}

async function updateWith(
  request: ApiRequest,
  accessorId: string,
  tokenRequest: AclTokenRequest,
): Promise<ApiReply> {
  const token = await request.backend.acl.updateToken(accessorId, tokenRequest);
  return tokenReply(token);
}

/**
 * Returns a token to a management caller or to the token itself. Any other caller gets 403
 * whether or not the token exists, so that AccessorIDs cannot be probed.
 */
async function readToken(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  const accessorId = request.params.accessor!;
  const caller = request.acl.token;
  const management = request.acl.acl.isManagement();
  if (!management && caller?.AccessorID !== accessorId) requireManagement(request);
  return readTokenBy(request, accessorId);
}

/** Returns the caller's own token. A request without an ACL token (a workload identity) gets 404. */
async function readOwnToken(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  const caller = request.acl.token;
  if (caller === null) return notFound(TOKEN_NOT_FOUND);
  return readTokenBy(request, caller.AccessorID);
}

function readTokenBy(request: ApiRequest, accessorId: string): Promise<ApiReply> {
  const { state } = request.backend;
  return blockingRead(request, 'aclTokens', () => {
    const token = state.aclToken(accessorId);
    if (token === null) return { index: state.tableIndex('aclTokens'), reply: notFound(TOKEN_NOT_FOUND) };
    return { index: token.ModifyIndex, reply: jsonReply(aclTokenView(token)) };
  });
}

async function deleteToken(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  requireManagement(request);
  const { Index } = await request.backend.acl.deleteToken(request.params.accessor!);
  return writeReply(Index);
}

/** Reply of a token write: the token with its SecretID, which the writer needs, and the entry's index. */
function tokenReply(token: AclToken): ApiReply {
  return jsonReply(aclTokenView(token), { 'X-Nomad-Index': String(token.ModifyIndex) });
}

/** True when the request announces a body: a non-zero Content-Length, or chunked transfer. */
function hasBody(request: ApiRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}
