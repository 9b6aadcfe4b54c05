import type { AclPolicy, AclToken } from '../../state/store.js';
import { rfc3339Nanos } from '../../structs/unix-nanos.js';

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
