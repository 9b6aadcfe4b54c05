import type { Allocation } from '../structs/allocation.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { Job } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { bootstrapIndexOf } from './acl-bootstrap.js';
import { type AclPolicy, jobAclIndexValue } from './acl-policies.js';
import { type AclToken, findBySecret } from './acl-tokens.js';
import { applyCommand } from './apply-command.js';
import type { ApplyResult } from './apply-result.js';
import { ChangeWaiters } from './change-waiters.js';
import { type Command, decodeCommand } from './commands.js';
import { jobKey } from './job-key.js';
import type { Namespace } from './namespaces.js';
import type { StoredRootKey } from './root-keys.js';
import type { ServerRecord } from './servers.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import { Transaction } from './table.js';
import { initialTables, TABLE_NAMES, type TableName, type Tables } from './tables.js';
import { listVariables, type VariableEncrypted, variableKey } from './variables.js';

export type { AclPolicy, JobAcl } from './acl-policies.js';
export type { AclToken, AclTokenType } from './acl-tokens.js';
export type { ApplyResult } from './apply-result.js';
export type { Namespace } from './namespaces.js';
export { type PublicNode, publicNode } from './nodes.js';
export type { StoredRootKey } from './root-keys.js';
export type { ServerRecord } from './servers.js';
export type { TableName } from './tables.js';
export type { VariableEncrypted } from './variables.js';

/**
 * The replicated state machine: every table, the Raft index of the last entry applied, and the
 * waits of blocking queries. The Raft driver is its only writer, through `apply`, `advanceTo` and
 * `restore`. Rows returned to readers are frozen and lists are copies, so no reader can change
 * the state.
 */
export class StateStore {
  #tables: Tables = initialTables();
  /** Invariant: every `apply` and `advanceTo` raises it, and only `restore` may set it lower. */
  #latestIndex = 0;
  readonly #waiters = new Map<TableName, ChangeWaiters>(
    TABLE_NAMES.map((name) => [name, new ChangeWaiters()]),
  );

  /** Raft index of the last entry applied (0 before the first entry). */
  get latestIndex(): number {
    return this.#latestIndex;
  }

  /**
   * Applies the command in the log entry at `index`. Never throws for bad data: an entry that does
   * not decode, or a command that the state rejects, returns `ok: false` and changes no table, but
   * the index still moves. Throws a plain Error when `index` is not above `latestIndex`, because
   * applying an entry twice or out of order is a bug in the caller.
   */
  apply(index: number, data: Uint8Array): ApplyResult {
    this.#checkNextIndex(index);

    let command: Command;
    try {
      command = decodeCommand(data);
    } catch (err) {
      this.#latestIndex = index;
      const reason = err instanceof Error ? err.message : String(err);
      return {
        ok: false,
        reason: 'undecodable',
        status: 500,
        message: `cannot apply Raft entry ${index}: ${reason}`,
      };
    }

    // The command's changes stay in the transaction until it commits, so a rejection leaves
    // nothing behind, and the commit is made of plain Map writes that cannot fail midway.
    const txn = new Transaction(index);
    const result = applyCommand(txn, this.#tables, command);
    this.#latestIndex = index;
    if (result.ok) {
      for (const name of txn.commit()) this.#waiterOf(name).notify(index);
    }
    return result;
  }

  /** Moves the index past a log entry that contains no command (a no-op or a membership change). */
  advanceTo(index: number): void {
    this.#checkNextIndex(index);
    this.#latestIndex = index;
  }

  /** Raft index of the table's last change; at least 1, because the tables are created at index 1. */
  tableIndex(table: TableName): number {
    return this.#tables[table].index;
  }

  /** Returns every namespace, sorted by name. */
  namespaces(): Namespace[] {
    return [...this.#tables.namespaces.list()];
  }

  namespace(name: string): Namespace | null {
    return this.#tables.namespaces.get(name);
  }

  /** Returns every server in the directory, sorted by id. */
  servers(): ServerRecord[] {
    return [...this.#tables.servers.list()];
  }

  server(id: number): ServerRecord | null {
    return this.#tables.servers.get(id);
  }

  /** Returns the jobs of `namespace`, or of every namespace for '*', sorted by namespace, then ID. */
  jobs(namespace: string): Job[] {
    const all = this.#tables.jobs.list();
    return namespace === '*' ? [...all] : all.filter((job) => job.Namespace === namespace);
  }

  job(namespace: string, id: string): Job | null {
    return this.#tables.jobs.get(jobKey(namespace, id));
  }

  evaluation(id: string): Evaluation | null {
    return this.#tables.evals.get(id);
  }

  /** Returns every evaluation, sorted by ID. */
  evaluations(): Evaluation[] {
    return [...this.#tables.evals.list()];
  }

  /** Returns the evaluations of one job, sorted by ID, including those left from a purged job of that ID. */
  evaluationsByJob(namespace: string, jobId: string): Evaluation[] {
    return this.#tables.evals.listBy('job', jobKey(namespace, jobId));
  }

  allocation(id: string): Allocation | null {
    return this.#tables.allocs.get(id);
  }

  /** Returns every allocation, sorted by ID. */
  allocations(): Allocation[] {
    return [...this.#tables.allocs.list()];
  }

  /** Returns the allocations of one job, sorted by ID, including those left from a purged job of that ID. */
  allocationsByJob(namespace: string, jobId: string): Allocation[] {
    return this.#tables.allocs.listBy('job', jobKey(namespace, jobId));
  }

  /** Returns the allocations placed on one node, terminal ones included, sorted by ID. */
  allocationsByNode(nodeId: string): Allocation[] {
    return this.#tables.allocs.listBy('node', nodeId);
  }

  /** Returns a node with its SecretID; pass it through `publicNode` before it leaves the server. */
  node(id: string): Node | null {
    return this.#tables.nodes.get(id);
  }

  /** Returns every node, SecretIDs included, sorted by ID. */
  nodes(): Node[] {
    return [...this.#tables.nodes.list()];
  }

  /** Returns the allocations whose identities `keyId` signed, sorted by ID. */
  allocationsBySigningKey(keyId: string): Allocation[] {
    return this.#tables.allocs.listBy('signingKey', keyId);
  }

  /**
   * Returns every root key in the order the log created them (by CreateIndex), so the active key
   * is last, with wrapped material only. CreateTime comes from each proposer's clock, so it can
   * disagree with that order when servers' clocks differ.
   */
  rootKeys(): StoredRootKey[] {
    return [...this.#tables.rootKeys.list()].sort((a, b) => a.Meta.CreateIndex - b.Meta.CreateIndex);
  }

  rootKey(keyId: string): StoredRootKey | null {
    return this.#tables.rootKeys.get(keyId);
  }

  /** Returns the key that signs new identities, or null until the leader creates the first one. */
  activeRootKey(): StoredRootKey | null {
    return this.#tables.rootKeys.list().find((row) => row.Meta.State === 'active') ?? null;
  }

  aclPolicy(name: string): AclPolicy | null {
    return this.#tables.aclPolicies.get(name);
  }

  /** Returns every ACL policy, sorted by name. */
  aclPolicies(): AclPolicy[] {
    return [...this.#tables.aclPolicies.list()];
  }

  /**
   * Returns the policies whose JobACL names job `jobId` of `namespace` (at any group and task), and
   * those whose JobACL names only `namespace`, sorted by name. The caller picks the ones that match
   * a workload's group and task.
   */
  aclPoliciesForJob(namespace: string, jobId: string): AclPolicy[] {
    const table = this.#tables.aclPolicies;
    const wholeNamespace = table.listBy('job', jobAclIndexValue(namespace, ''));
    if (jobId === '') return wholeNamespace;
    const policies = [...table.listBy('job', jobAclIndexValue(namespace, jobId)), ...wholeNamespace];
    return policies.sort((a, b) => table.spec.compareKeys(a.Name, b.Name));
  }

  /** Returns a token with its SecretID, which must never be logged or returned to other callers. */
  aclToken(accessorId: string): AclToken | null {
    return this.#tables.aclTokens.get(accessorId);
  }

  /**
   * Returns the token whose SecretID is `secretId`, or null. The index is keyed by the secret's
   * SHA-256 and the secret is compared in constant time, so timing reveals nothing about it.
   */
  aclTokenBySecret(secretId: string): AclToken | null {
    return findBySecret(this.#tables.aclTokens, secretId);
  }

  /** Returns every ACL token, SecretIDs included, sorted by AccessorID. */
  aclTokens(): AclToken[] {
    return [...this.#tables.aclTokens.list()];
  }

  /** Raft index of the entry that last bootstrapped ACLs (the reset index), or null before the first bootstrap. */
  aclBootstrapIndex(): number | null {
    return bootstrapIndexOf(this.#tables.aclBootstrap);
  }

  /** Returns a variable with its items still encrypted, or null. */
  variable(namespace: string, path: string): VariableEncrypted | null {
    return this.#tables.variables.get(variableKey(namespace, path));
  }

  /**
   * Returns the variables of `namespace`, or of every namespace for '*', whose path starts with
   * `prefix`, sorted by namespace, then path.
   */
  variables(namespace: string, prefix = ''): VariableEncrypted[] {
    return listVariables(this.#tables.variables, namespace, prefix);
  }

  /** Returns the variables encrypted with root key `keyId`, sorted by namespace, then path. */
  variablesByKey(keyId: string): VariableEncrypted[] {
    return this.#tables.variables.listBy('keyId', keyId);
  }

  /** Returns how many variables are encrypted with root key `keyId`: the size of its index bucket, without sorting. */
  variableCountByKey(keyId: string): number {
    return this.#tables.variables.bucket('keyId', keyId)?.size ?? 0;
  }

  /**
   * Resolves when `tableIndex(table)` exceeds `afterIndex`, at once if it already does, or when
   * `signal` aborts. Never rejects, so a blocking query responds with whatever state it reads then.
   */
  waitForChange(table: TableName, afterIndex: number, signal: AbortSignal): Promise<void> {
    return this.#waiterOf(table).wait(afterIndex, this.tableIndex(table), signal);
  }

  /** Number of `waitForChange` calls on `table` that have not resolved yet. */
  pendingWaits(table: TableName): number {
    return this.#waiterOf(table).size;
  }

  // TODO: chunk snapshot and restore, or move them to a worker thread. They run synchronously and
  // grow linearly with the rows. On a shared 2-core VM, bench/state.ts measured about 7 ms and
  // 25 ms for 10,000 namespaces, and about 0.8 s and 1 s for 100,000 allocations, far above the
  // 10 ms event-loop budget. One plan-apply entry of 10,000 allocations also took about 120 ms to
  // decode, check and apply, so the plan applier should keep entries smaller.

  /** Serialises every table and `latestIndex`. */
  snapshot(): Uint8Array {
    return encodeSnapshot({ latestIndex: this.#latestIndex, tables: this.#tables });
  }

  /**
   * Replaces every table and `latestIndex` with the snapshot's. The snapshot is decoded and checked
   * in full first, so on SnapshotError the current state stays as it was.
   */
  restore(bytes: Uint8Array): void {
    const image = decodeSnapshot(bytes);
    this.#tables = image.tables;
    this.#latestIndex = image.latestIndex;
    for (const name of TABLE_NAMES) this.#waiterOf(name).notify(this.#tables[name].index);
  }

  #waiterOf(table: TableName): ChangeWaiters {
    const waiters = this.#waiters.get(table);
    if (waiters === undefined) throw new Error(`unknown table ${JSON.stringify(table)}`);
    return waiters;
  }

  #checkNextIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index <= this.#latestIndex) {
      throw new Error(
        `cannot apply Raft index ${index}: the state is already at index ${this.#latestIndex}, ` +
          'and each entry must be applied once, in log order',
      );
    }
  }
}
