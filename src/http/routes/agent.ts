import { jsonReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import type { ApiRouter } from '../router.js';

/**
 * Endpoints about the agent that serves the request; they never involve the leader, so they
 * resolve the ACL from this server's own state. As in Nomad, self needs agent:read, members
 * node:read, and health nothing.
 */
export function registerAgentRoutes(router: ApiRouter): void {
  router.on(
    'GET',
    '/v1/agent/self',
    async (request) => {
      authorize(request, (acl) => acl.agentRead());
      return jsonReply(request.backend.self());
    },
    'local-state',
  );

  // Nomad's health body uses lower-case keys. An unhealthy agent returns 500, so that load
  // balancers can probe it by status alone. It skips authentication, so neither a stale token nor
  // a broken `anonymous` policy changes its status.
  router.on(
    'GET',
    '/v1/agent/health',
    async (request) => {
      const health = request.backend.health();
      return jsonReply(
        { server: { ok: health.ok, message: health.message } },
        undefined,
        health.ok ? 200 : 500,
      );
    },
    'none',
  );

  router.on(
    'GET',
    '/v1/agent/members',
    async (request) => {
      authorize(request, (acl) => acl.nodeRead());
      return jsonReply({ ServerName: request.backend.nodeName, Members: request.backend.members() });
    },
    'local-state',
  );
}
