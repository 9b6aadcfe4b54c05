import { readPolicyName } from './acl-fields.js';
import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { type FieldErrorFactory, invalidSnapshotField } from './errors.js';
import { readFields, readString } from './fields.js';
import { readIndex, readJobId } from './job-fields.js';
import { compareAscii } from './key-order.js';
import { MAX_ACL_RULES_BYTES, MAX_NAME_BYTES } from './limits.js';
import { NAMESPACE_NAME_PATTERN } from './namespaces.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, Table, TableSpec, Transaction } from './table.js';

/** Nomad's limit on a policy's Description. */
export const MAX_POLICY_DESCRIPTION_BYTES = 256;

/**
 * The workloads a policy applies to: every workload of a namespace (JobID ''), of one job (Group
 * ''), of one group of it (Task ''), or one task.
 */
export interface JobAcl {
  readonly Namespace: string;
  readonly JobID: string;
  readonly Group: string;
  readonly Task: string;
}

/** An ACL policy row in Nomad's JSON shape. */
export interface AclPolicy {
  readonly Name: string;
  readonly Description: string;
  /**
   * Policy text in HCL or JSON, stored as written. The writer parses it in strict mode before it
   * proposes the policy. Apply never parses it, so that a parser change cannot make replicas differ.
   */
  readonly Rules: string;
  /** The workloads the policy applies to, or null for a policy that only tokens name. */
  readonly JobACL: JobAcl | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

/** Table of ACL policies keyed by name, with the index that finds a job's policies. */
export type AclPolicyTable = Table<string, AclPolicy, 'job'>;

const POLICY_FIELDS = ['Name', 'Description', 'Rules', 'JobACL', 'CreateIndex', 'ModifyIndex'] as const;
const JOB_ACL_FIELDS = ['Namespace', 'JobID', 'Group', 'Task'] as const;

/**
 * Checks a policy in Nomad's JSON shape and returns a frozen copy. A command's CreateIndex and
 * ModifyIndex are read but not kept, because apply sets them.
 */
export function readAclPolicy(value: unknown, field: string, fail: FieldErrorFactory): AclPolicy {
  const f = readFields(value, field, POLICY_FIELDS, fail);
  return Object.freeze({
    Name: readPolicyName(f.Name, `${field}.Name`, fail),
    Description: readString(f.Description, `${field}.Description`, fail, {
      maxBytes: MAX_POLICY_DESCRIPTION_BYTES,
    }),
    Rules: readString(f.Rules, `${field}.Rules`, fail, { maxBytes: MAX_ACL_RULES_BYTES }),
    JobACL: f.JobACL === null ? null : readJobAcl(f.JobACL, `${field}.JobACL`, fail),
    CreateIndex: readIndex(f.CreateIndex, `${field}.CreateIndex`, fail),
    ModifyIndex: readIndex(f.ModifyIndex, `${field}.ModifyIndex`, fail),
  });
}

/**
 * Reads a JobACL. The three rules on which parts need which are Nomad's, with its messages. A
 * JobACL without a namespace is rejected too, because it would apply to no workload, and a policy
 * for no workload has JobACL null.
 */
function readJobAcl(value: unknown, field: string, fail: FieldErrorFactory): JobAcl {
  const f = readFields(value, field, JOB_ACL_FIELDS, fail);
  const namespace = readString(f.Namespace, `${field}.Namespace`, fail);
  const jobAcl: JobAcl = Object.freeze({
    Namespace: namespace,
    JobID: readJobId(f.JobID, `${field}.JobID`, fail, true),
    Group: readString(f.Group, `${field}.Group`, fail, { maxBytes: MAX_NAME_BYTES }),
    Task: readString(f.Task, `${field}.Task`, fail, { maxBytes: MAX_NAME_BYTES }),
  });
  if (jobAcl.JobID !== '' && jobAcl.Namespace === '') {
    throw fail(field, 'is invalid: namespace must be set to set job ID');
  }
  if (jobAcl.Group !== '' && jobAcl.JobID === '')
    throw fail(field, 'is invalid: job ID must be set to set group');
  if (jobAcl.Task !== '' && jobAcl.Group === '')
    throw fail(field, 'is invalid: group must be set to set task');
  if (namespace === '') {
    throw fail(`${field}.Namespace`, 'must name a namespace (a policy tied to no workload has JobACL null)');
  }
  // Checked after the rules above, so that a missing namespace gets Nomad's message first.
  readString(namespace, `${field}.Namespace`, fail, { pattern: NAMESPACE_NAME_PATTERN });
  return jobAcl;
}

/**
 * Returns the value under which the `job` index files a policy tied to `jobId` of `namespace`.
 * With jobId '', it is the value of policies tied to the whole namespace. Namespace names contain
 * no NUL, so the parts cannot run together.
 */
export function jobAclIndexValue(namespace: string, jobId: string): string {
  return `${namespace}\u0000${jobId}`;
}

function policyJobIndexValue(policy: AclPolicy): string {
  return policy.JobACL === null ? '' : jobAclIndexValue(policy.JobACL.Namespace, policy.JobACL.JobID);
}

/** Creates or replaces each policy by name. Replacing keeps its CreateIndex, as Nomad does. */
export function upsertAclPolicies(
  txn: Transaction,
  table: AclPolicyTable,
  policies: readonly AclPolicy[],
): ApplyResult {
  const draft = txn.draft(table);
  for (const policy of policies) {
    const existing = draft.get(policy.Name);
    draft.put(
      policy.Name,
      Object.freeze({ ...policy, CreateIndex: existing?.CreateIndex ?? txn.index, ModifyIndex: txn.index }),
    );
  }
  return APPLIED;
}

/**
 * Deletes the named policies, or none of them when one does not exist (404). Tokens that name a
 * deleted policy keep the name, and resolution skips names that no policy has.
 */
export function deleteAclPolicies(
  txn: Transaction,
  table: AclPolicyTable,
  names: readonly string[],
): ApplyResult {
  const draft = txn.draft(table);
  for (const name of names) {
    if (draft.get(name) === null) return rejected(404, `ACL policy ${name} not found`);
  }
  for (const name of names) draft.delete(name);
  return APPLIED;
}

function decodeAclPolicyRow(value: unknown, field: string, context: RowContext): AclPolicy {
  const policy = readAclPolicy(value, field, invalidSnapshotField);
  checkRowIndexes(field, context, [
    ['CreateIndex', policy.CreateIndex],
    ['ModifyIndex', policy.ModifyIndex],
  ]);
  return policy;
}

/** ACL policies by name. Added in snapshot version 4. */
export const aclPolicyTableSpec: TableSpec<string, AclPolicy, 'job'> = {
  name: 'aclPolicies',
  sinceSnapshotVersion: 4,
  keyOf: (row) => row.Name,
  // Policy names are ASCII, for which code-unit order is Go's byte order.
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeAclPolicyRow,
  checkRows() {},
  indexes: { job: policyJobIndexValue },
};
