import { RequestError } from '../../server/request-error.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { readConsistently, withReadHeaders } from '../blocking-read.js';
import { parseReadOptions } from '../read-options.js';
import type { ApiRouter } from '../router.js';

/**
 * How long a client may cache the JWKS, in seconds. Nomad derives it from the newest key's age
 * and the rotation threshold, but never goes below 15 minutes. Signet always sends that
 * minimum, because it does not prepublish keys: a rotation starts signing with the new key at
 * once, so a long cache lifetime would leave third parties without the key of new tokens.
 */
export const JWKS_MAX_AGE_SECONDS = 15 * 60;

/** The only signing algorithm of Signet's workload identities (Ed25519). */
const SIGNING_ALGORITHMS = ['EdDSA'] as const;

/** JWKS and OIDC discovery. The server serves both without authentication, for third parties. */
export function registerWellKnownRoutes(router: ApiRouter): void {
  router.on('GET', '/.well-known/jwks.json', publicKeySet, 'none');
  router.on('GET', '/.well-known/openid-configuration', openIdConfiguration, 'none');
}

/**
 * Public keys of every root key that still verifies. The read is consistent unless `stale` is set,
 * as Nomad forwards it to the leader, so a verifier that refetches on an unknown `kid` finds
 * every committed key even on a lagging follower.
 */
async function publicKeySet(request: ApiRequest): Promise<ApiReply> {
  // The key set has no blocking query, so `index` and `wait` are only checked.
  const options = parseReadOptions(request.query);
  const { backend } = request;
  await readConsistently(request, options.stale);

  const keySet = await backend.publicKeySet();
  // Nomad leaves the header out when there is no key to cache.
  const headers: Record<string, string> =
    keySet.keys.length > 0 ? { 'Cache-Control': `max-age=${JWKS_MAX_AGE_SECONDS}` } : {};
  return withReadHeaders(request, jsonReply(keySet, headers), backend.state.tableIndex('rootKeys'));
}

async function openIdConfiguration(request: ApiRequest): Promise<ApiReply> {
  const issuer = request.backend.oidcIssuer();
  if (issuer === null) throw new RequestError(404, 'OIDC Discovery endpoint disabled');
  return jsonReply({
    issuer,
    jwks_uri: `${issuer.replace(/\/+$/, '')}/.well-known/jwks.json`,
    // Nomad also lists RS256, but Signet signs with Ed25519 keys only.
    id_token_signing_alg_values_supported: SIGNING_ALGORITHMS,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
  });
}
