import type { ApplyResult } from './apply-result.js';
import type { Command } from './commands.js';
import { deleteNamespace, upsertNamespace } from './namespaces.js';
import { deleteServer, upsertServer } from './servers.js';
import type { Transaction } from './table.js';
import type { Tables } from './tables.js';

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
      return deleteNamespace(txn, tables.namespaces, command.name);
    case 'server-upsert':
      return upsertServer(txn, tables.servers, command.server);
    case 'server-delete':
      return deleteServer(txn, tables.servers, command.id);
  }
}
