import { ROOT_KEY_ALGORITHM, type RootKeyMeta } from '../../keyring/index.js';
import { RequestError } from '../../server/request-error.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { switchParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';

/** Root key ids are lower-case UUIDs, as `randomUUID` makes them and the state accepts them. */
const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Root key list, rotation and removal (`/v1/operator/keyring/...`), with Nomad's paths and JSON.
 * Each needs its operator capability, as from Nomad 1.11.3: keyring-read (granted by operator
 * read), keyring-rotate and keyring-delete (granted by operator write).
 */
export function registerKeyringRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/operator/keyring/keys', listRootKeys);
  router.on(['PUT', 'POST'], '/v1/operator/keyring/rotate', rotateRootKey);
  router.on('DELETE', '/v1/operator/keyring/key/:id', removeRootKey);
}

/**
 * A key's metadata as the list returns it, with a field Nomad does not have: the number of
 * variables still encrypted under the key, which shows how far a rekey is.
 */
export type RootKeyListEntry = RootKeyMeta & { readonly EncryptedVariables: number };

/**
 * Metadata only: the backend never returns key material, wrapped or not. A blocking query wakes on
 * changes of the root key table. `EncryptedVariables` moves with the variables table instead, so a
 * client that follows a rekey also reads again after a short `wait`.
 */
async function listRootKeys(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.operatorOperation('keyring-read'));
  const { backend } = request;
  return blockingRead(request, 'rootKeys', () => ({
    index: backend.state.tableIndex('rootKeys'),
    reply: jsonReply(
      backend.rootKeys().map(
        (meta): RootKeyListEntry => ({
          ...meta,
          EncryptedVariables: backend.state.variableCountByKey(meta.KeyID),
        }),
      ),
    ),
  }));
}

async function rotateRootKey(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.operatorOperation('keyring-rotate'));
  const { query } = request;
  // Nomad ignores an unknown `algo`. A 400 that names the only algorithm is clearer.
  const algorithm = query.get('algo');
  if (algorithm !== null && algorithm !== '' && algorithm !== ROOT_KEY_ALGORITHM) {
    throw new RequestError(
      400,
      `Invalid algo value ${JSON.stringify(algorithm)}: the only root key algorithm is ${ROOT_KEY_ALGORITHM}`,
    );
  }
  if (query.has('publish_time')) {
    throw new RequestError(
      400,
      'Invalid publish_time: Signet does not prepublish root keys; a rotation makes the new key active at once',
    );
  }
  const full = switchParam(query, 'full');

  const result = await request.backend.rotateRootKey(full);
  return jsonReply(result, { 'X-Nomad-Index': String(result.Index) });
}

async function removeRootKey(request: ApiRequest): Promise<ApiReply> {
  authorize(request, (acl) => acl.operatorOperation('keyring-delete'));
  const keyId = request.params.id!;
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new RequestError(
      400,
      `Invalid key ID ${JSON.stringify(keyId)}: expected a full lower-case UUID, as keyring list -verbose prints it`,
    );
  }
  const force = switchParam(request.query, 'force');

  const result = await request.backend.removeRootKey(keyId, force);
  return jsonReply(result, { 'X-Nomad-Index': String(result.Index) });
}
