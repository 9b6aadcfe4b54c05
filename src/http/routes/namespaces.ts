import { RequestError } from '../../server/request-error.js';
import { validateCommand } from '../../state/commands.js';
import { CommandError } from '../../state/errors.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply, writeReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import type { ApiRouter } from '../router.js';

/**
 * Namespace list, read, upsert and delete, with Nomad's paths and JSON shape. As in Nomad, the list
 * shows only the namespaces that the caller's ACL grants anything in, a read needs the same, and
 * writes need a management token.
 */
export function registerNamespaceRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/namespaces', listNamespaces);
  router.on('GET', '/v1/namespace/:name', readNamespace);
  router.on(['PUT', 'POST'], '/v1/namespace/:name', upsertNamespace);
  router.on(['PUT', 'POST'], '/v1/namespace', upsertNamespace);
  router.on('DELETE', '/v1/namespace/:name', deleteNamespace);
}

async function listNamespaces(request: ApiRequest): Promise<ApiReply> {
  const prefix = request.query.get('prefix') ?? '';
  const { state } = request.backend;
  return blockingRead(request, 'namespaces', () => {
    // The store returns namespaces sorted by name, the order Nomad lists them in.
    const namespaces = state
      .namespaces()
      .filter((namespace) => namespace.Name.startsWith(prefix))
      .filter((namespace) => request.acl.acl.allowNamespace(namespace.Name));
    return { index: state.tableIndex('namespaces'), reply: jsonReply(namespaces) };
  });
}

async function readNamespace(request: ApiRequest): Promise<ApiReply> {
  const name = request.params.name!;
  authorize(request, (acl) => acl.allowNamespace(name));
  const { state } = request.backend;
  // As in Nomad, the index of a found namespace is its ModifyIndex, so a blocking read of one
  // namespace wakes only when that namespace changes.
  return blockingRead(request, 'namespaces', () => {
    const namespace = state.namespace(name);
    if (namespace === null) {
      return {
        index: state.tableIndex('namespaces'),
        reply: { status: 404, body: { kind: 'text', value: 'Namespace not found', contentType: TEXT } },
      };
    }
    return { index: namespace.ModifyIndex, reply: jsonReply(namespace) };
  });
}

async function upsertNamespace(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.isManagement());
  const body = await request.readJson();
  const namespace = namespaceFromBody(body, request.params.name ?? null);
  const command = checkedCommand({ type: 'namespace-upsert', v: 1, namespace });
  const { index } = await request.backend.apply(command);
  return writeReply(index);
}

async function deleteNamespace(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.isManagement());
  const command = checkedCommand({ type: 'namespace-delete', v: 1, name: request.params.name! });
  const { index } = await request.backend.apply(command);
  return writeReply(index);
}

const TEXT = 'text/plain; charset=utf-8';

/**
 * Takes the fields Signet stores from a body in Nomad's Namespace shape. `Name` may be left out
 * when the path names the namespace. Other fields are ignored, as Nomad's decoder ignores unknown
 * ones, except for quota and capabilities: Signet enforces neither, so a request that sets them
 * is rejected instead of silently losing them.
 */
function namespaceFromBody(body: unknown, pathName: string | null): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 'Invalid namespace: the request body must be a JSON object');
  }
  const fields = body as Record<string, unknown>;

  let name = pathName;
  if (fields.Name !== undefined && fields.Name !== '') {
    if (typeof fields.Name !== 'string')
      throw new RequestError(400, 'Invalid namespace: Name must be a string');
    if (pathName !== null && fields.Name !== pathName) {
      throw new RequestError(
        400,
        `Namespace name does not match request path: the body names ${JSON.stringify(fields.Name)}, the path ${JSON.stringify(pathName)}`,
      );
    }
    name = fields.Name;
  }
  if (name === null) {
    throw new RequestError(400, 'Missing namespace name: set Name in the body or send to /v1/namespace/NAME');
  }
  if (fields.Quota !== undefined && fields.Quota !== null && fields.Quota !== '') {
    throw new RequestError(400, 'Invalid namespace: Quota is not supported by Signet; leave it empty');
  }
  if (fields.Capabilities !== undefined && fields.Capabilities !== null) {
    throw new RequestError(
      400,
      'Invalid namespace: Capabilities are not supported by Signet; leave them null',
    );
  }

  return { Name: name, Description: fields.Description ?? '', Meta: fields.Meta ?? null };
}

/** Runs the state machine's own checks on a command built from API input; a failure is the client's. */
function checkedCommand(value: unknown): ReturnType<typeof validateCommand> {
  try {
    return validateCommand(value);
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    // Field paths are relative to the command (`namespace.Name`); the client sent the namespace itself.
    const field = err.field.replace(/^namespace\./, '');
    throw new RequestError(400, `Invalid namespace: ${field} ${err.problem}`);
  }
}
