import type { VariableDecrypted, VariableMetadata } from '../server/variables/variable-shapes.js';
import { compareStrings, formatNanos } from './display.js';
import { formatKeyValues, formatTable } from './table.js';

/**
 * Formats a variable as Nomad's `var get` table: its namespace, path, creation time and the index
 * to pass to `-check-index`, then its items sorted by key.
 */
export function formatVariable(variable: VariableDecrypted): string {
  const head = formatKeyValues([
    ['Namespace', variable.Namespace],
    ['Path', variable.Path],
    ['Create Time', formatNanos(variable.CreateTime)],
    ['Check Index', String(variable.ModifyIndex)],
  ]);
  const items = Object.entries(variable.Items).sort(([a], [b]) => compareStrings(a, b));
  return `${head}\nItems\n${formatKeyValues(items)}`;
}

/** Formats `var list`: Path and Last Updated, with a Namespace column when listing every namespace. */
export function formatVariableList(variables: readonly VariableMetadata[], allNamespaces: boolean): string {
  if (allNamespaces) {
    const rows = variables.map((entry) => [entry.Namespace, entry.Path, formatNanos(entry.ModifyTime)]);
    return formatTable(['Namespace', 'Path', 'Last Updated'], rows);
  }
  const rows = variables.map((entry) => [entry.Path, formatNanos(entry.ModifyTime)]);
  return formatTable(['Path', 'Last Updated'], rows);
}
