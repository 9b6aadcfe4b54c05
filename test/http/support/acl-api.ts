import assert from 'node:assert/strict';
import type { TestBackend, TestServer } from './test-backend.js';

// Helpers of the ACL and variable API tests: calls with a token, and tokens made through the API.

/** A token as the ACL endpoints return it. */
export interface TokenJson {
  AccessorID: string;
  SecretID?: string;
  Name: string;
  Type: string;
  Policies: string[];
  Global: boolean;
  CreateTime: string;
  ExpirationTime?: string;
  CreateIndex: number;
  ModifyIndex: number;
}

/** Sends a request with `X-Nomad-Token: token` (none for null) and a JSON body when given. */
export function call(
  server: TestServer,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = token === null ? {} : { 'X-Nomad-Token': token };
  return fetch(`${server.url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
}

/** Sends a request, asserts its status, and returns the parsed JSON body (null when empty). */
export async function callJson<T>(
  server: TestServer,
  method: string,
  path: string,
  token: string | null,
  status: number,
  body?: unknown,
): Promise<T> {
  const response = await call(server, method, path, token, body);
  const text = await response.text();
  assert.equal(response.status, status, `${method} ${path}: ${text}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

/** Sends a request, asserts its status, and returns the plain-text body. */
export async function callText(
  server: TestServer,
  method: string,
  path: string,
  token: string | null,
  status: number,
  body?: unknown,
): Promise<string> {
  const response = await call(server, method, path, token, body);
  const text = await response.text();
  assert.equal(response.status, status, `${method} ${path}: ${text}`);
  return text;
}

/**
 * Makes the backend accept the secrets of every stored token, as a server's authenticator accepts
 * a UUID that is some token's SecretID. TestBackend accepts only the tokens registered in its `principals`.
 */
export function trustStoredTokens(backend: TestBackend): void {
  for (const token of backend.state.aclTokens()) {
    backend.principals.set(token.SecretID, { kind: 'acl-token', secretId: token.SecretID });
  }
}

/** Bootstraps ACLs through the API and returns the management token's SecretID. */
export async function bootstrapManagement(server: TestServer): Promise<string> {
  const token = await callJson<TokenJson>(server, 'PUT', '/v1/acl/bootstrap', null, 200);
  trustStoredTokens(server.backend);
  return token.SecretID!;
}

/** Writes a policy through the API with the management token. */
export async function putPolicy(
  server: TestServer,
  management: string,
  name: string,
  rules: string,
  jobAcl: Record<string, string> | null = null,
): Promise<void> {
  await callText(server, 'PUT', `/v1/acl/policy/${name}`, management, 200, {
    Name: name,
    Description: '',
    Rules: rules,
    JobACL: jobAcl,
  });
}

/** Creates a client token with `policies` through the API and returns it, SecretID included. */
export async function createClientToken(
  server: TestServer,
  management: string,
  policies: string[],
  name = 'client',
): Promise<TokenJson> {
  const token = await callJson<TokenJson>(server, 'PUT', '/v1/acl/token', management, 200, {
    Name: name,
    Type: 'client',
    Policies: policies,
  });
  trustStoredTokens(server.backend);
  return token;
}
