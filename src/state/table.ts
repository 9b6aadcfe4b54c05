import type { TableName } from './tables.js';

/** Facts a restored row is checked against. */
export interface RowContext {
  /** Version of the snapshot format the row comes from, so that a table can upgrade old rows. */
  readonly snapshotVersion: number;
  /** Raft index of the table's last change in that snapshot; no row may be newer. */
  readonly tableIndex: number;
}

/**
 * Everything the store needs to know about one table: how rows are keyed and ordered, which rows
 * exist before the first entry, and how a snapshot row is checked. To add a table, write a spec
 * beside its row type and list it in tables.ts.
 */
export interface TableSpec<Key, Row> {
  readonly name: TableName;
  /** Snapshot format version that introduced the table. Older snapshots restore it with `initialRows`. */
  readonly sinceSnapshotVersion: number;
  keyOf(row: Row): Key;
  compareKeys(a: Key, b: Key): number;
  /** Rows present before any entry is applied; they count as written at index 1. */
  initialRows(): readonly Row[];
  /** Checks one snapshot row and returns a frozen copy. Throws SnapshotError. */
  decodeRow(value: unknown, field: string, context: RowContext): Row;
  /** Checks rules that span rows (for example, that `default` exists). Throws SnapshotError. */
  checkRows(rows: ReadonlyMap<Key, Row>, field: string): void;
}

/** Form of a table inside a snapshot. */
export interface TableSection {
  readonly index: number;
  readonly rows: readonly unknown[];
}

/**
 * The rows of one table and the Raft index of its last change. Rows are frozen, so callers may
 * hold them, and only a committed Transaction changes the table.
 */
export class Table<Key, Row> {
  readonly spec: TableSpec<Key, Row>;
  #rows: Map<Key, Row>;
  #index: number;
  /** Rows in key order, built on the first read after a change. */
  #sorted: readonly Row[] | null = null;

  constructor(spec: TableSpec<Key, Row>, rows: Map<Key, Row>, index: number) {
    this.spec = spec;
    this.#rows = rows;
    this.#index = index;
  }

  static initial<Key, Row>(spec: TableSpec<Key, Row>): Table<Key, Row> {
    const rows = new Map<Key, Row>();
    for (const row of spec.initialRows()) rows.set(spec.keyOf(row), row);
    return new Table(spec, rows, 1);
  }

  /** Raft index of the last change, at least 1 so that a blocking query on it can always wait. */
  get index(): number {
    return this.#index;
  }

  get size(): number {
    return this.#rows.size;
  }

  get(key: Key): Row | null {
    return this.#rows.get(key) ?? null;
  }

  /** Returns all rows in key order, as a frozen array that stays valid after later changes. */
  list(): readonly Row[] {
    if (this.#sorted === null) {
      const rows = [...this.#rows.values()];
      rows.sort((a, b) => this.spec.compareKeys(this.spec.keyOf(a), this.spec.keyOf(b)));
      this.#sorted = Object.freeze(rows);
    }
    return this.#sorted;
  }

  section(): TableSection {
    return { index: this.#index, rows: this.list() };
  }

  /** Writes the changes of a committed transaction. Only Map operations, so it cannot fail midway. */
  commit(changes: ReadonlyMap<Key, Row | null>, index: number): void {
    for (const [key, row] of changes) {
      if (row === null) this.#rows.delete(key);
      else this.#rows.set(key, row);
    }
    this.#index = index;
    this.#sorted = null;
  }
}

/** Pending writes to one table, visible to reads made through the same transaction. */
export class TableDraft<Key, Row> {
  readonly table: Table<Key, Row>;
  readonly #changes = new Map<Key, Row | null>();

  constructor(table: Table<Key, Row>) {
    this.table = table;
  }

  get(key: Key): Row | null {
    const pending = this.#changes.get(key);
    return pending === undefined ? this.table.get(key) : pending;
  }

  put(key: Key, row: Row): void {
    this.#changes.set(key, row);
  }

  delete(key: Key): void {
    this.#changes.set(key, null);
  }

  get changed(): boolean {
    return this.#changes.size > 0;
  }

  commit(index: number): void {
    this.table.commit(this.#changes, index);
  }
}

/**
 * The changes of one command, built against the current tables and swapped in by `commit`. A
 * command that is rejected halfway leaves nothing behind, so readers never see part of it.
 */
export class Transaction {
  readonly index: number;
  readonly #drafts = new Map<object, TableDraft<unknown, unknown>>();

  constructor(index: number) {
    this.index = index;
  }

  draft<Key, Row>(table: Table<Key, Row>): TableDraft<Key, Row> {
    let draft = this.#drafts.get(table);
    if (draft === undefined) {
      draft = new TableDraft(table) as unknown as TableDraft<unknown, unknown>;
      this.#drafts.set(table, draft);
    }
    // The map is keyed by the table object itself, so the draft found belongs to `table`.
    return draft as unknown as TableDraft<Key, Row>;
  }

  /** Writes every draft with changes and returns the names of the tables that changed. */
  commit(): TableName[] {
    const changed: TableName[] = [];
    for (const draft of this.#drafts.values()) {
      if (!draft.changed) continue;
      draft.commit(this.index);
      changed.push(draft.table.spec.name);
    }
    return changed;
  }
}
