import createRouter from 'find-my-way';
import type { ApiHandler } from './api-request.js';
import type { AuthMode } from './request-access.js';

export type ApiMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

const API_METHODS: readonly ApiMethod[] = ['GET', 'PUT', 'POST', 'DELETE'];

/**
 * Longest path parameter in characters. find-my-way defaults to 100, below Nomad's 128-character
 * namespace names, and a longer parameter would read as an unknown path instead of an invalid name.
 */
const MAX_PARAM_LENGTH = 1024;

export type RouteMatch =
  | {
      readonly kind: 'found';
      readonly handler: ApiHandler;
      readonly auth: AuthMode;
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'method-not-allowed' }
  | { readonly kind: 'not-found' };

/** A route's handler and authentication mode, as the router stores them. */
interface Route {
  readonly handler: ApiHandler;
  readonly auth: AuthMode;
}

/**
 * Maps method and path to a handler and its authentication mode. The radix tree of find-my-way
 * does the matching. This class adds the distinction that Nomad makes between an unknown path
 * (404) and a known path requested with the wrong method (405).
 */
export class ApiRouter {
  readonly #tree = createRouter({ ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH });

  /**
   * Registers a route. `auth` defaults to `required`, so a route skips authentication only when
   * its registration declares it.
   */
  on(
    methods: ApiMethod | readonly ApiMethod[],
    path: string,
    handler: ApiHandler,
    auth: AuthMode = 'required',
  ): void {
    const list = typeof methods === 'string' ? [methods] : methods;
    const route: Route = { handler, auth };
    for (const method of list) this.#tree.on(method, path, () => undefined, route);
  }

  /** Matches a path, without its query string, whose percent-encoding the caller has checked. */
  match(method: string, path: string): RouteMatch {
    if (isApiMethod(method)) {
      const found = this.#tree.find(method, path);
      if (found !== null) {
        const params: Record<string, string> = {};
        for (const [name, value] of Object.entries(found.params)) {
          if (value !== undefined) params[name] = value;
        }
        const route = found.store as Route;
        return { kind: 'found', handler: route.handler, auth: route.auth, params };
      }
    }
    for (const other of API_METHODS) {
      if (other !== method && this.#tree.find(other, path) !== null) return { kind: 'method-not-allowed' };
    }
    return { kind: 'not-found' };
  }
}

function isApiMethod(method: string): method is ApiMethod {
  return (API_METHODS as readonly string[]).includes(method);
}
