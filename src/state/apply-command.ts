import { bootstrapAcl } from './acl-bootstrap.js';
import { deleteAclPolicies, upsertAclPolicies } from './acl-policies.js';
import { deleteAclTokens, upsertAclTokens } from './acl-tokens.js';
import { applyPlan, updateAllocsFromClient } from './allocs.js';
import type { ApplyResult } from './apply-result.js';
import { APPLIED } from './apply-result.js';
import type { Command } from './commands.js';
import { upsertEvals } from './evals.js';
import { refreshJobStatuses } from './job-status.js';
import { deregisterJob, registerJob } from './jobs.js';
import { deleteNamespace, upsertNamespace } from './namespaces.js';
import { registerNode, updateNodeStatus } from './nodes.js';
import { deactivateRootKey, deleteRootKey, insertActiveRootKey } from './root-keys.js';
import { deleteServer, upsertServer } from './servers.js';
import type { Transaction } from './table.js';
import type { Tables } from './tables.js';
import { applyVariable } from './var-apply.js';

/**
 * Runs one decoded command against the tables through `txn`. Must be deterministic: the result
 * may depend only on the command, the index and the tables, never on the clock, randomness or
 * local configuration, because every replica applies the same entry and must reach the same state.
 */
export function applyCommand(txn: Transaction, tables: Tables, command: Command): ApplyResult {
  switch (command.type) {
    case 'namespace-upsert':
      return upsertNamespace(txn, tables.namespaces, command.namespace);
    case 'namespace-delete':
      return deleteNamespace(txn, tables, command.name);
    case 'server-upsert':
      return upsertServer(txn, tables.servers, command.server);
    case 'server-delete':
      return deleteServer(txn, tables.servers, command.id);
    case 'job-register':
      return registerJob(txn, tables, command.job, command.eval);
    case 'job-deregister':
      return deregisterJob(txn, tables, {
        namespace: command.namespace,
        jobId: command.jobId,
        purge: command.purge,
        evaluation: command.eval,
        time: command.time,
      });
    case 'eval-upsert':
      refreshJobStatuses(txn, tables, upsertEvals(txn, tables, command.evals));
      return APPLIED;
    case 'plan-apply':
      return applyPlan(txn, tables, command);
    case 'node-register':
      return registerNode(txn, tables, command.node);
    case 'node-status':
      return updateNodeStatus(txn, tables, command);
    case 'alloc-client-update':
      return updateAllocsFromClient(txn, tables, command);
    case 'root-key-upsert':
      return insertActiveRootKey(txn, tables.rootKeys, { ...command, rekeyRetired: command.v === 2 });
    case 'root-key-state':
      return deactivateRootKey(txn, tables.rootKeys, command.keyId);
    case 'root-key-delete':
      return deleteRootKey(txn, tables, command);
    case 'acl-bootstrap':
      return bootstrapAcl(txn, tables, command);
    case 'acl-token-upsert':
      return upsertAclTokens(txn, tables.aclTokens, command.tokens);
    case 'acl-token-delete':
      return deleteAclTokens(txn, tables.aclTokens, command.accessorIds);
    case 'acl-policy-upsert':
      return upsertAclPolicies(txn, tables.aclPolicies, command.policies);
    case 'acl-policy-delete':
      return deleteAclPolicies(txn, tables.aclPolicies, command.names);
    case 'var-apply':
      return applyVariable(txn, tables, command);
  }
}
