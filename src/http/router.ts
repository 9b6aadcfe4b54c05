import createRouter from 'find-my-way';
import type { ApiHandler } from './api-request.js';

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
      readonly params: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'method-not-allowed' }
  | { readonly kind: 'not-found' };

/**
 * Maps method and path to a handler. The radix tree of find-my-way does the matching. This class
 * adds the distinction that Nomad makes between an unknown path (404) and a known path requested
 * with the wrong method (405).
 */
export class ApiRouter {
  readonly #tree = createRouter({ ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH });

  on(methods: ApiMethod | readonly ApiMethod[], path: string, handler: ApiHandler): void {
    const list = typeof methods === 'string' ? [methods] : methods;
    for (const method of list) this.#tree.on(method, path, () => undefined, handler);
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
        return { kind: 'found', handler: found.store as ApiHandler, params };
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
