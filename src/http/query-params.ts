import { RequestError } from '../server/request-error.js';
import { FALSE_WORDS, TRUE_WORDS } from './read-options.js';

/** Namespace of a request without `?namespace=`, as in Nomad. */
export const DEFAULT_NAMESPACE = 'default';
/** `?namespace=*` selects every namespace on the list endpoints that support it. */
export const ALL_NAMESPACES = '*';

/** Reads `?namespace=`; absent or empty means `default`. */
export function namespaceParam(query: URLSearchParams): string {
  const value = query.get('namespace');
  return value === null || value === '' ? DEFAULT_NAMESPACE : value;
}

/**
 * Reads `?namespace=` for an endpoint that reads or changes objects of one namespace. It is
 * `namespaceParam` without `*`, which is a 400: the ACL checks `*` against any namespace, so a
 * caller allowed in one namespace would pass the check for all of them.
 */
export function singleNamespaceParam(query: URLSearchParams): string {
  return requireOneNamespace(namespaceParam(query));
}

/** Returns `namespace`, or throws RequestError 400 naming the value when it is `*`. */
export function requireOneNamespace(namespace: string): string {
  if (namespace === ALL_NAMESPACES) {
    throw new RequestError(
      400,
      `Invalid namespace ${JSON.stringify(namespace)}: this endpoint works in one namespace, and "*" selects all of them only on list endpoints`,
    );
  }
  return namespace;
}

/** Reads `?prefix=`; absent means every row. */
export function prefixParam(query: URLSearchParams): string {
  return query.get('prefix') ?? '';
}

/**
 * Reads a boolean parameter with the spellings of Go's strconv.ParseBool, as Nomad does. An absent
 * or empty parameter is false; any other spelling is a 400 naming the parameter and the value.
 */
export function booleanParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === '') return false;
  if (TRUE_WORDS.has(value)) return true;
  if (FALSE_WORDS.has(value)) return false;
  throw new RequestError(400, `Invalid ${name} value ${JSON.stringify(value)}: expected true or false`);
}

/**
 * Reads a switch such as `?full` or `?force=true`. A bare parameter turns the switch on, as
 * Nomad's `?full` does. Otherwise the value takes the spellings of Go's strconv.ParseBool, and
 * any other value is a 400 naming the parameter and the value.
 */
export function switchParam(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null) return false;
  if (value === '' || TRUE_WORDS.has(value)) return true;
  if (FALSE_WORDS.has(value)) return false;
  throw new RequestError(400, `Invalid ${name} value ${JSON.stringify(value)}: expected true or false`);
}
