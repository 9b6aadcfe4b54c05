import type { AclPolicy, JobAcl } from '../../src/state/acl-policies.js';
import type { AclToken } from '../../src/state/acl-tokens.js';
import type { ApplyResult } from '../../src/state/apply-result.js';
import type { StateStore } from '../../src/state/store.js';
import { entry, T0 } from './workload-fixtures.js';

// Builders of valid ACL policies and tokens for the state tests. Each takes overrides, so that a
// test spells out only the fields it is about.

/** Returns a UUID that differs for each `n`, for AccessorIDs. */
export function accessorId(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** Returns a UUID that differs for each `n` and shares no 8-character run with `accessorId`, for SecretIDs. */
export function secretId(n: number): string {
  return `5ec2e7ab-cdef-4abc-9def-${(0xabcdef000000 + n).toString(16)}`;
}

export function makePolicy(overrides: Partial<AclPolicy> = {}): AclPolicy {
  return {
    Name: 'readonly',
    Description: 'read jobs in default',
    Rules: 'namespace "default" { policy = "read" }',
    JobACL: null,
    CreateIndex: 0,
    ModifyIndex: 0,
    ...overrides,
  };
}

export function jobAcl(Namespace: string, JobID = '', Group = '', Task = ''): JobAcl {
  return { Namespace, JobID, Group, Task };
}

export function makeToken(overrides: Partial<AclToken> = {}): AclToken {
  return {
    AccessorID: accessorId(1),
    SecretID: secretId(1),
    Name: 'deploy',
    Type: 'client',
    Policies: ['readonly'],
    Global: false,
    CreateTime: T0,
    ExpirationTime: null,
    CreateIndex: 0,
    ModifyIndex: 0,
    ...overrides,
  };
}

export function managementToken(n: number, overrides: Partial<AclToken> = {}): AclToken {
  return makeToken({
    AccessorID: accessorId(n),
    SecretID: secretId(n),
    Name: 'Bootstrap Token',
    Type: 'management',
    Policies: [],
    Global: true,
    ...overrides,
  });
}

/** Applies `data` at the next index and returns the result, whether applied or rejected. */
export function applyNext(store: StateStore, data: Uint8Array): ApplyResult {
  return store.apply(store.latestIndex + 1, data);
}

export function upsertPolicies(...policies: AclPolicy[]): Uint8Array {
  return entry('acl-policy-upsert', { policies });
}

export function upsertTokens(...tokens: AclToken[]): Uint8Array {
  return entry('acl-token-upsert', { tokens });
}

export function bootstrap(token: AclToken, resetIndex = 0): Uint8Array {
  return entry('acl-bootstrap', { token, resetIndex });
}

/** Returns the status and message of a rejected result, and fails when the entry was applied. */
export function rejection(result: ApplyResult): { status: number; reason: string; message: string } {
  if (result.ok) throw new Error('expected the entry to be rejected, but it was applied');
  return { status: result.status, reason: result.reason, message: result.message };
}
