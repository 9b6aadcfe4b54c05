import type { AclPolicy, AclToken } from '../../state/store.js';

const NS_PER_MS = 1_000_000;

/**
 * Formats Unix nanoseconds as RFC 3339 in UTC with up to nine fraction digits, trailing zeros
 * dropped, as Go encodes a `time.Time` and Nomad sends token times. Times this large are exact in
 * a double only to 256 ns, so the last digits may differ from the clock reading.
 */
export function rfc3339Nanos(nanos: number): string {
  const ms = Math.floor(nanos / NS_PER_MS);
  const belowMs = Math.min(NS_PER_MS - 1, Math.max(0, Math.round(nanos - ms * NS_PER_MS)));
  const iso = new Date(ms).toISOString();
  const fraction = `${iso.slice(20, 23)}${String(belowMs).padStart(6, '0')}`.replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/**
 * Returns a token in Nomad's JSON shape, times as RFC 3339 strings, with its SecretID. Only the
 * token's writer, a management caller and the token itself may receive it.
 */
export function aclTokenView(token: AclToken): Record<string, unknown> {
  return { AccessorID: token.AccessorID, SecretID: token.SecretID, ...tokenFields(token) };
}

/** Returns a token as `GET /v1/acl/tokens` lists it: Nomad's ACLTokenListStub, never with the SecretID. */
export function aclTokenStub(token: AclToken): Record<string, unknown> {
  return { AccessorID: token.AccessorID, ...tokenFields(token) };
}

function tokenFields(token: AclToken): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    Name: token.Name,
    Type: token.Type,
    Policies: token.Policies,
    Global: token.Global,
    CreateTime: rfc3339Nanos(token.CreateTime),
  };
  // Nomad leaves ExpirationTime out for a token that never expires.
  if (token.ExpirationTime !== null) fields.ExpirationTime = rfc3339Nanos(token.ExpirationTime);
  fields.CreateIndex = token.CreateIndex;
  fields.ModifyIndex = token.ModifyIndex;
  return fields;
}

/** Returns a policy as `GET /v1/acl/policies` lists it, without its Rules. */
export function aclPolicyStub(policy: AclPolicy): Record<string, unknown> {
  return {
    Name: policy.Name,
    Description: policy.Description,
    JobACL: policy.JobACL,
    CreateIndex: policy.CreateIndex,
    ModifyIndex: policy.ModifyIndex,
  };
}
