import type { JobAcl } from '../acl/index.js';
import { formatKeyValues, formatTable } from './table.js';

/** Reason the ACL commands ignore -namespace. `acl policy apply` gives the flag its own meaning. */
export const ACL_NAMESPACE_IGNORED = 'ACL tokens and policies belong to no namespace';

/** A token as the ACL endpoints return it, times as RFC 3339 strings. */
export interface AclTokenJson {
  readonly AccessorID: string;
  /** Absent from list stubs. */
  readonly SecretID?: string;
  readonly Name: string;
  readonly Type: string;
  readonly Policies: readonly string[];
  readonly Global: boolean;
  readonly CreateTime: string;
  /** Absent for a token that never expires. */
  readonly ExpirationTime?: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

/** A policy as the ACL endpoints return it; list stubs have no Rules. */
export interface AclPolicyJson {
  readonly Name: string;
  readonly Description: string;
  readonly Rules?: string;
  readonly JobACL: JobAcl | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

/**
 * Formats a token as Nomad's `acl token info` and `acl bootstrap` print it: one `key = value`
 * line per field, with `n/a` as the policies of a management token, which cannot have any.
 */
export function formatToken(token: AclTokenJson): string {
  const policies = token.Type === 'management' ? 'n/a' : `[${token.Policies.join(' ')}]`;
  return formatKeyValues([
    ['Accessor ID', token.AccessorID],
    ['Secret ID', token.SecretID ?? ''],
    ['Name', token.Name],
    ['Type', token.Type],
    ['Global', String(token.Global)],
    ['Create Time', token.CreateTime],
    ['Expiry Time', token.ExpirationTime ?? '<none>'],
    ['Create Index', String(token.CreateIndex)],
    ['Modify Index', String(token.ModifyIndex)],
    ['Policies', policies],
  ]);
}

/** Formats the table of `acl token list`: Name, Type, Global, Accessor ID, Expired. */
export function formatTokenList(tokens: readonly AclTokenJson[], nowMs: number): string {
  const rows = tokens.map((token) => [
    token.Name,
    token.Type,
    String(token.Global),
    token.AccessorID,
    String(token.ExpirationTime !== undefined && Date.parse(token.ExpirationTime) < nowMs),
  ]);
  return formatTable(['Name', 'Type', 'Global', 'Accessor ID', 'Expired'], rows);
}

/**
 * Formats a policy as Nomad's `acl policy info` prints it: its fields, the workload it is tied to
 * when it has a JobACL, then its rules as written.
 */
export function formatPolicy(policy: AclPolicyJson): string {
  let text = formatKeyValues([
    ['Name', policy.Name],
    ['Description', policy.Description],
    ['CreateIndex', String(policy.CreateIndex)],
    ['ModifyIndex', String(policy.ModifyIndex)],
  ]);
  const jobAcl = policy.JobACL;
  if (jobAcl !== null) {
    text += `\nAssociated Workload\n${formatKeyValues([
      ['Namespace', jobAcl.Namespace],
      ['JobID', jobAcl.JobID],
      ['Group', jobAcl.Group],
      ['Task', jobAcl.Task],
    ])}`;
  }
  const rules = policy.Rules ?? '';
  text += `\nRules\n\n${rules}${rules.endsWith('\n') ? '' : '\n'}`;
  return text;
}
