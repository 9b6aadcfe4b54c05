import type { VariableItems } from '../../keyring/index.js';
import type { VariableEncrypted } from '../../state/store.js';

/** A variable without its items, in Nomad's JSON shape: what lists return. Times are Unix nanoseconds. */
export interface VariableMetadata {
  readonly Namespace: string;
  readonly Path: string;
  readonly CreateIndex: number;
  readonly CreateTime: number;
  readonly ModifyIndex: number;
  readonly ModifyTime: number;
}

/** A variable with its items decrypted, in Nomad's JSON shape (`VariableDecrypted`). */
export interface VariableDecrypted extends VariableMetadata {
  readonly Items: VariableItems;
}

/**
 * The current variable that a check-and-set conflicted with. It carries `Items` only when the caller
 * may read the variable, and it is all zeros but Namespace and Path when the variable does not exist.
 */
export type VariableConflict = VariableMetadata & { readonly Items?: VariableItems };

/** A variable write or delete to make: `casIndex` null for a plain one, else the ModifyIndex expected (0: absent). */
export interface VariableChange {
  readonly namespace: string;
  readonly path: string;
  readonly casIndex: number | null;
}

export interface VariableWrite extends VariableChange {
  readonly items: VariableItems;
}

/**
 * Outcome of a write or delete. `index` is the Raft index of the entry, or for a write that changed
 * nothing the variable's ModifyIndex. `variable` is the variable as written, null for a delete.
 */
export type VariableChangeResult =
  | { readonly ok: true; readonly index: number; readonly variable: VariableDecrypted | null }
  | { readonly ok: false; readonly conflict: VariableConflict };

export function variableMetadata(row: VariableEncrypted): VariableMetadata {
  return {
    Namespace: row.Namespace,
    Path: row.Path,
    CreateIndex: row.CreateIndex,
    CreateTime: row.CreateTime,
    ModifyIndex: row.ModifyIndex,
    ModifyTime: row.ModifyTime,
  };
}

/** Returns the conflict payload for a variable that does not exist, as Nomad sends it. */
export function absentVariable(namespace: string, path: string): VariableMetadata {
  return { Namespace: namespace, Path: path, CreateIndex: 0, CreateTime: 0, ModifyIndex: 0, ModifyTime: 0 };
}
