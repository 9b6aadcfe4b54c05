import type { JobAcl } from '../../acl/index.js';
import type { AclPolicyRequest } from '../../server/acl/acl-policy-request.js';
import type { AclTokenRequest } from '../../server/acl/acl-token-request.js';
import { RequestError } from '../../server/request-error.js';
import { parseGoDuration } from '../../structs/go-duration.js';

// Readers of the JSON bodies of the ACL endpoints, in Nomad's field names. Each checks the JSON
// types and leaves the rules (names, policies, lifetimes) to the backend. Unknown fields are
// ignored, as Nomad's decoder ignores them.

const NS_PER_MS = 1_000_000;

/** Reads the optional `{"BootstrapSecret": "<uuid>"}` of a bootstrap request; null when absent or empty. */
export function bootstrapSecretFromBody(body: unknown): string | null {
  const fields = objectBody(body, 'ACL bootstrap request');
  const secret = fields.BootstrapSecret;
  if (secret === undefined || secret === null || secret === '') return null;
  if (typeof secret !== 'string')
    throw new RequestError(400, 'invalid acl token: BootstrapSecret must be a string');
  return secret;
}

/**
 * Reads an ACLToken body. Returns the AccessorID it names ('' for a new token) and the request.
 * `ExpirationTTL` takes a Go duration string (`1h`) or nanoseconds, as Nomad accepts both.
 */
export function tokenRequestFromBody(body: unknown): { accessorId: string; request: AclTokenRequest } {
  const fields = objectBody(body, 'ACL token');
  const roles = fields.Roles;
  if (Array.isArray(roles) && roles.length > 0) {
    throw new RequestError(
      400,
      'invalid ACL token: Signet has no ACL roles; name policies in Policies instead',
    );
  }
  return {
    accessorId: optionalString(fields.AccessorID, 'AccessorID'),
    request: {
      name: optionalString(fields.Name, 'Name'),
      type: optionalString(fields.Type, 'Type'),
      policies: stringList(fields.Policies, 'Policies'),
      global: optionalBoolean(fields.Global, 'Global'),
      expirationTtlMs: expirationTtl(fields.ExpirationTTL),
      expirationTime: expirationTime(fields.ExpirationTime),
    },
  };
}

/**
 * Reads an ACLPolicy body for `/v1/acl/policy/:name`. The Name, when given, must equal the path's
 * name (Nomad's `ACL policy name does not match request path`); when left out the path names it.
 * A JobACL whose fields are all empty is no JobACL.
 */
export function policyRequestFromBody(body: unknown, pathName: string): AclPolicyRequest {
  const fields = objectBody(body, 'ACL policy');
  const name = optionalString(fields.Name, 'Name');
  if (name !== '' && name !== pathName) {
    throw new RequestError(
      400,
      `ACL policy name does not match request path: the body names ${JSON.stringify(name.slice(0, 160))}, the path ${JSON.stringify(pathName)}`,
    );
  }
  return {
    name: pathName,
    description: optionalString(fields.Description, 'Description'),
    rules: optionalString(fields.Rules, 'Rules'),
    jobAcl: jobAclFromBody(fields.JobACL),
  };
}

function jobAclFromBody(value: unknown): JobAcl | null {
  if (value === undefined || value === null) return null;
  const fields = objectBody(value, 'JobACL');
  const jobAcl: JobAcl = {
    Namespace: optionalString(fields.Namespace, 'JobACL.Namespace'),
    JobID: optionalString(fields.JobID, 'JobACL.JobID'),
    Group: optionalString(fields.Group, 'JobACL.Group'),
    Task: optionalString(fields.Task, 'JobACL.Task'),
  };
  const empty = jobAcl.Namespace === '' && jobAcl.JobID === '' && jobAcl.Group === '' && jobAcl.Task === '';
  return empty ? null : jobAcl;
}

function expirationTtl(value: unknown): number | null {
  if (value === undefined || value === null || value === '' || value === 0) return null;
  let ms: number | null = null;
  if (typeof value === 'number' && Number.isFinite(value)) ms = value / NS_PER_MS;
  else if (typeof value === 'string') ms = parseGoDuration(value);
  if (ms === null) {
    throw new RequestError(
      400,
      `invalid ACL token: ExpirationTTL must be a duration such as "1h" or a number of nanoseconds, got ${JSON.stringify(value).slice(0, 80)}`,
    );
  }
  if (ms < 0) throw new RequestError(400, 'invalid ACL token: ExpirationTTL must not be negative');
  return ms;
}

function expirationTime(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new RequestError(
      400,
      `invalid ACL token: ExpirationTime must be an RFC 3339 time such as "2030-01-02T15:04:05Z", got ${JSON.stringify(value).slice(0, 80)}`,
    );
  }
  return ms * NS_PER_MS;
}

function objectBody(body: unknown, subject: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RequestError(400, `invalid ${subject}: the request body must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

function optionalString(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string')
    throw new RequestError(400, `invalid request body: ${field} must be a string`);
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean')
    throw new RequestError(400, `invalid request body: ${field} must be true or false`);
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new RequestError(400, `invalid request body: ${field} must be a list of strings`);
  }
  return value as string[];
}
