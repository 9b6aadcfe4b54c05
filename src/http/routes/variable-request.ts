import type { VariableItems } from '../../keyring/index.js';
import { RequestError } from '../../server/request-error.js';
import type { ApiRequest } from '../api-request.js';
import { DEFAULT_NAMESPACE, requireOneNamespace } from '../query-params.js';

// Readers of the parts of a `/v1/var/:path` request: path, namespace, `cas` and the body's Items.
// No message names an item key or value, because they are secrets.

/** Nomad's variable lock parameters. Signet has no locks, so each one is rejected. */
const LOCK_PARAMS = ['lock-acquire', 'lock-release', 'lock-renew'] as const;

/** Returns the variable path of the request, percent-decoded, with the URL's trailing slash removed. */
export function variablePathParam(request: ApiRequest): string {
  return request.params['*'] ?? '';
}

/**
 * Reads `?cas=`: null when absent, else the ModifyIndex the write or delete expects (0: the
 * variable must not exist).
 */
export function casParam(query: URLSearchParams): number | null {
  const value = query.get('cas');
  if (value === null) return null;
  const index = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(index)) {
    throw new RequestError(
      400,
      `Invalid cas value ${JSON.stringify(value.slice(0, 40))}: expected the variable's ModifyIndex, or 0 for a variable that must not exist yet`,
    );
  }
  return index;
}

export function rejectLockParams(query: URLSearchParams): void {
  for (const name of LOCK_PARAMS) {
    if (query.has(name)) {
      throw new RequestError(400, `Invalid ${name}: Signet does not support variable locks`);
    }
  }
}

/**
 * Reads the namespace and Items of a write from its VariableDecrypted body. The namespace is
 * `?namespace=`, else the body's Namespace, else `default`, and never `*`. When both are given
 * they must agree, and a Path in the body must be the URL's.
 */
export function variableWriteFromBody(
  body: unknown,
  query: URLSearchParams,
  path: string,
): { namespace: string; items: VariableItems } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, 'Invalid variable: the request body must be a JSON object with Items');
  }
  const fields = body as Record<string, unknown>;
  if (fields.Lock !== undefined && fields.Lock !== null) {
    throw new RequestError(400, 'Invalid variable: Signet does not support variable locks; leave Lock out');
  }
  const bodyPath = fields.Path;
  if (bodyPath !== undefined && bodyPath !== null && bodyPath !== '' && bodyPath !== path) {
    throw new RequestError(400, 'Invalid variable: the Path in the body does not match the request path');
  }
  return { namespace: writeNamespace(query, fields.Namespace), items: itemsOf(fields.Items) };
}

function writeNamespace(query: URLSearchParams, bodyNamespace: unknown): string {
  const fromQuery = query.get('namespace') ?? '';
  if (bodyNamespace !== undefined && bodyNamespace !== null && typeof bodyNamespace !== 'string') {
    throw new RequestError(400, 'Invalid variable: Namespace must be a string');
  }
  const fromBody = bodyNamespace ?? '';
  if (fromQuery !== '' && fromBody !== '' && fromQuery !== fromBody) {
    throw new RequestError(
      400,
      `Invalid variable: the body's Namespace ${JSON.stringify(fromBody.slice(0, 160))} does not match ?namespace=${fromQuery.slice(0, 160)}`,
    );
  }
  return requireOneNamespace(fromQuery || fromBody || DEFAULT_NAMESPACE);
}

function itemsOf(value: unknown): VariableItems {
  if (value === undefined || value === null)
    throw new RequestError(400, 'variable missing required Items object');
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RequestError(400, 'Invalid variable: Items must be a JSON object of strings');
  }
  for (const item of Object.values(value)) {
    if (typeof item !== 'string') {
      throw new RequestError(
        400,
        `Invalid variable: every value in Items must be a string, one is ${kindOf(item)}`,
      );
    }
  }
  return value as VariableItems;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
