import { jsonReply } from '../api-request.js';
import { withReadHeaders } from '../blocking-read.js';
import type { ApiRouter } from '../router.js';

/**
 * Leader and peers from this server's own view, read without a request to the leader, as in Nomad.
 * Like Nomad, they need no ACL capability. They skip authentication, so a probe with a stale
 * token still gets a reply.
 */
export function registerStatusRoutes(router: ApiRouter): void {
  router.on(
    'GET',
    '/v1/status/leader',
    async (request) => withReadHeaders(request, jsonReply(request.backend.leaderAddress()), null),
    'none',
  );
  router.on(
    'GET',
    '/v1/status/peers',
    async (request) => withReadHeaders(request, jsonReply(request.backend.peers()), null),
    'none',
  );
}
