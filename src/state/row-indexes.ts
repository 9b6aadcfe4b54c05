import { invalidSnapshotField } from './errors.js';
import { readInteger } from './fields.js';
import type { RowContext } from './table.js';

/**
 * Checks the Raft indexes of a snapshot row, listed oldest first (for example CreateIndex, then
 * ModifyIndex): the first is at least 1, each is at least the one before, and none is above the
 * table's index. Throws SnapshotError naming the first index out of order.
 */
export function checkRowIndexes(
  field: string,
  context: RowContext,
  indexes: readonly (readonly [name: string, value: number])[],
): void {
  let floor = 1;
  for (const [name, value] of indexes) {
    floor = readInteger(value, `${field}.${name}`, invalidSnapshotField, floor, context.tableIndex);
  }
}
