import type { Allocation } from '../structs/allocation.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { type AclBootstrapRecord, aclBootstrapTableSpec } from './acl-bootstrap.js';
import { type AclPolicy, aclPolicyTableSpec } from './acl-policies.js';
import { type AclToken, aclTokenTableSpec } from './acl-tokens.js';
import { allocTableSpec } from './allocs.js';
import { evalTableSpec } from './evals.js';
import { jobTableSpec } from './jobs.js';
import { type Namespace, namespaceTableSpec } from './namespaces.js';
import { nodeTableSpec } from './nodes.js';
import { rootKeyTableSpec, type StoredRootKey } from './root-keys.js';
import { type ServerRecord, serverTableSpec } from './servers.js';
import { Table, type TableSpec } from './table.js';
import { type VariableEncrypted, variableTableSpec } from './variables.js';

/** Every replicated table. To add one, add it here and in `buildTables`, and nowhere else in the store. */
export interface Tables {
  readonly namespaces: Table<string, Namespace>;
  readonly servers: Table<number, ServerRecord>;
  /** Keyed by `jobKey(Namespace, ID)`. */
  readonly jobs: Table<string, Job>;
  readonly evals: Table<string, Evaluation, 'job'>;
  readonly allocs: Table<string, Allocation, 'job' | 'node' | 'signingKey'>;
  readonly nodes: Table<string, Node>;
  readonly rootKeys: Table<string, StoredRootKey>;
  /** Indexed by `jobAclIndexValue(Namespace, JobID)` of the JobACL, or '' without one. */
  readonly aclPolicies: Table<string, AclPolicy, 'job'>;
  readonly aclTokens: Table<string, AclToken, 'secret'>;
  readonly aclBootstrap: Table<string, AclBootstrapRecord>;
  /** Keyed by `variableKey(Namespace, Path)`, indexed by the KeyID that encrypted each row. */
  readonly variables: Table<string, VariableEncrypted, 'keyId'>;
}

export type TableName = keyof Tables;

/** Builds one Table per spec with `make`; the only place that lists the tables. */
export function buildTables(
  make: <Key, Row, IndexName extends string>(
    spec: TableSpec<Key, Row, IndexName>,
  ) => Table<Key, Row, IndexName>,
): Tables {
  return {
    namespaces: make(namespaceTableSpec),
    servers: make(serverTableSpec),
    jobs: make(jobTableSpec),
    evals: make(evalTableSpec),
    allocs: make(allocTableSpec),
    nodes: make(nodeTableSpec),
    rootKeys: make(rootKeyTableSpec),
    aclPolicies: make(aclPolicyTableSpec),
    aclTokens: make(aclTokenTableSpec),
    aclBootstrap: make(aclBootstrapTableSpec),
    variables: make(variableTableSpec),
  };
}

/** Tables as they are before the first entry: only the `default` namespace. */
export function initialTables(): Tables {
  return buildTables(Table.initial);
}

export const TABLE_NAMES: readonly TableName[] = Object.freeze(Object.keys(initialTables()) as TableName[]);
