import type { Evaluation } from '../structs/evaluation.js';
import type { Node, NodeStatus } from '../structs/node.js';
import { APPLIED, APPLIED_FREEING_CAPACITY, type ApplyResult, rejected } from './apply-result.js';
import { invalidSnapshotField } from './errors.js';
import { upsertEvals } from './evals.js';
import { refreshJobStatuses } from './job-status.js';
import { compareAscii } from './key-order.js';
import { readNode } from './node-fields.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, TableSpec, Transaction } from './table.js';
import type { Tables } from './tables.js';

/** A node as the HTTP API shows it: everything but the SecretID. */
export type PublicNode = Omit<Node, 'SecretID'>;

/** Returns a frozen copy of `node` without its SecretID, for responses and logs. */
export function publicNode(node: Node): PublicNode {
  const { SecretID: _secret, ...rest } = node;
  return Object.freeze(rest);
}

/**
 * Inserts a node, or updates it when its ID exists (CreateIndex kept). The SecretID is what proves
 * that a client agent is the node, so a registration for an existing ID with another SecretID is
 * rejected with 403 and changes nothing.
 */
export function registerNode(txn: Transaction, tables: Tables, node: Node): ApplyResult {
  const nodes = txn.draft(tables.nodes);
  const existing = nodes.get(node.ID);
  if (existing !== null && existing.SecretID !== node.SecretID) {
    return rejected(403, `node ${node.ID} is already registered with a different secret ID`);
  }
  nodes.put(
    node.ID,
    Object.freeze({ ...node, CreateIndex: existing?.CreateIndex ?? txn.index, ModifyIndex: txn.index }),
  );
  // A node that (re)registers is ready with its whole capacity.
  return APPLIED_FREEING_CAPACITY;
}

export interface NodeStatusChange {
  readonly nodeId: string;
  readonly status: NodeStatus;
  readonly description: string;
  /** Unix nanoseconds; StatusUpdatedAt records it in whole seconds, as Nomad does. */
  readonly time: number;
  readonly evals: readonly Evaluation[];
}

/** Sets a node's status, and inserts the evaluations that the change calls for. 404 for an unknown node. */
export function updateNodeStatus(txn: Transaction, tables: Tables, change: NodeStatusChange): ApplyResult {
  const nodes = txn.draft(tables.nodes);
  const existing = nodes.get(change.nodeId);
  if (existing === null) return rejected(404, 'node not found');
  nodes.put(
    change.nodeId,
    Object.freeze({
      ...existing,
      Status: change.status,
      StatusDescription: change.description,
      StatusUpdatedAt: Math.floor(change.time / 1e9),
      ModifyIndex: txn.index,
    }),
  );
  refreshJobStatuses(txn, tables, upsertEvals(txn, tables, change.evals));
  return change.status === 'ready' && existing.Status !== 'ready' ? APPLIED_FREEING_CAPACITY : APPLIED;
}

function decodeNodeRow(value: unknown, field: string, context: RowContext): Node {
  const node = readNode(value, field, invalidSnapshotField);
  checkRowIndexes(field, context, [
    ['CreateIndex', node.CreateIndex],
    ['ModifyIndex', node.ModifyIndex],
  ]);
  return node;
}

export const nodeTableSpec: TableSpec<string, Node> = {
  name: 'nodes',
  sinceSnapshotVersion: 2,
  keyOf: (row) => row.ID,
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeNodeRow,
  checkRows() {},
  indexes: {},
};
