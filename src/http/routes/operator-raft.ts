import type { Acl } from '../../acl/index.js';
import { RequestError } from '../../server/request-error.js';
import type { ApiRequest } from '../api-request.js';
import { emptyReply, jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { readConsistently, withReadHeaders } from '../blocking-read.js';
import { parseReadOptions } from '../read-options.js';
import type { ApiRouter } from '../router.js';

/**
 * Raft configuration, peer removal and leadership transfer (`/v1/operator/raft/...`). All three
 * need a management token, as in Nomad, where no operator policy grants them.
 */
export function registerOperatorRaftRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/operator/raft/configuration', async (request) => {
    authorize(request, isManagement);
    // The configuration has no table index to block on, so `index` and `wait` are only checked.
    const options = parseReadOptions(request.query);
    await readConsistently(request, options.stale);
    const configuration = request.backend.raftConfiguration();
    return withReadHeaders(request, jsonReply(configuration), configuration.Index);
  });

  router.on('DELETE', '/v1/operator/raft/peer', async (request) => {
    authorize(request, isManagement);
    const id = peerIdFromQuery(request);
    if (id === null) {
      throw new RequestError(400, 'Missing peer: set ?id= to the server ID or ?address= to its RPC address');
    }
    await request.backend.removePeer(id);
    return emptyReply();
  });

  // Nomad accepts both PUT and POST here; without a peer the leader picks the most up-to-date voter.
  router.on(['PUT', 'POST'], '/v1/operator/raft/transfer-leadership', async (request) => {
    authorize(request, isManagement);
    await request.backend.transferLeadership(peerIdFromQuery(request));
    return emptyReply();
  });
}

function isManagement(acl: Acl): boolean {
  return acl.isManagement();
}

/**
 * Reads the target server from `?id=` or `?address=` (Nomad accepts either, not both) and
 * returns its Raft ID, or null when neither is given. An address is looked up in the Raft
 * configuration.
 */
function peerIdFromQuery(request: ApiRequest): string | null {
  const id = request.query.get('id');
  const address = request.query.get('address');
  if (id !== null && address !== null) {
    throw new RequestError(400, 'Invalid peer: set either ?id= or ?address=, not both');
  }
  if (id !== null) {
    if (id === '') throw new RequestError(400, 'Invalid peer: ?id= is empty');
    return id;
  }
  if (address === null) return null;
  if (address === '') throw new RequestError(400, 'Invalid peer: ?address= is empty');

  const server = request.backend
    .raftConfiguration()
    .Servers.find((candidate) => candidate.Address === address);
  if (server === undefined) {
    throw new RequestError(404, `Unknown peer: no server with address ${address} in the Raft configuration`);
  }
  return server.ID;
}
