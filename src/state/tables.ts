import { type Namespace, namespaceTableSpec } from './namespaces.js';
import { type ServerRecord, serverTableSpec } from './servers.js';
import { Table, type TableSpec } from './table.js';

/** Every replicated table. To add one, add it here and in `buildTables`, and nowhere else in the store. */
export interface Tables {
  readonly namespaces: Table<string, Namespace>;
  readonly servers: Table<number, ServerRecord>;
}

export type TableName = keyof Tables;

/** Builds one Table per spec with `make`; the only place that lists the tables. */
export function buildTables(make: <Key, Row>(spec: TableSpec<Key, Row>) => Table<Key, Row>): Tables {
  return {
    namespaces: make(namespaceTableSpec),
    servers: make(serverTableSpec),
  };
}

/** Tables as they are before the first entry: only the `default` namespace. */
export function initialTables(): Tables {
  return buildTables(Table.initial);
}

export const TABLE_NAMES: readonly TableName[] = Object.freeze(Object.keys(initialTables()) as TableName[]);
