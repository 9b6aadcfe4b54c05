import type { IncomingHttpHeaders } from 'node:http';

/**
 * Extracts a request's token the way Nomad does. A non-empty `X-Nomad-Token` wins and is trimmed.
 * Otherwise `Authorization: Bearer TOKEN` is used: the scheme is matched without regard to case,
 * and the token is the first word after it, after spaces or tabs. An `Authorization` header with any
 * other scheme (such as `Basic` added by a reverse proxy) is ignored, so the request is anonymous.
 * Returns null when there is no token.
 */
export function requestToken(headers: IncomingHttpHeaders): string | null {
  const header = headers['x-nomad-token'];
  const nomadToken = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (nomadToken !== '') return nomadToken;

  const authorization = headers.authorization;
  if (authorization === undefined) return null;
  // RFC 7235 allows any run of spaces or tabs after the scheme. Splitting on single spaces would
  // turn `Bearer<TAB>TOKEN` into an anonymous request instead of checking its token.
  const [scheme, bearer] = authorization.trim().split(/[ \t]+/);
  if (scheme?.toLowerCase() !== 'bearer' || bearer === undefined || bearer === '') return null;
  return bearer;
}
