import { PolicyError } from './policy-error.js';

/**
 * Readers for HCL1's generic structure, in which every block is a list of objects: a labeled block
 * `namespace "dev" { policy = "read" }` is `[{ dev: [{ policy: 'read' }] }]` and an unlabeled one
 * `agent { policy = "read" }` is `[{ policy: 'read' }]`. The JSON form of a policy decodes to the
 * same structure.
 */

export type Body = Readonly<Record<string, unknown>>;

/** One labeled block; `label` is null when the block was written without one. */
export interface LabeledBlock {
  readonly label: string | null;
  readonly body: Body;
}

export function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isBodyList(value: unknown): value is Body[] {
  return Array.isArray(value) && value.length > 0 && value.every(isBody);
}

/**
 * Reads the blocks of one labeled block type. An item whose single key holds a list of bodies is a
 * labeled block, and anything else is a block without a label.
 *
 * NOTE: the generic structure cannot tell `namespace "variables" { path ... }` from
 * `namespace { variables { path ... } }`: both read as a block labeled `variables`. The strict
 * check of keys inside blocks then reports `path` as an unknown key of that namespace.
 */
export function readLabeledBlocks(value: unknown, field: string): LabeledBlock[] {
  const blocks: LabeledBlock[] = [];
  for (const item of blockItems(value, field)) {
    const keys = Object.keys(item);
    const only = keys.length === 1 ? item[keys[0]!] : undefined;
    if (isBodyList(only)) {
      for (const body of only) blocks.push({ label: keys[0]!, body });
    } else {
      blocks.push({ label: null, body: item });
    }
  }
  return blocks;
}

/** Reads the bodies of an unlabeled block type such as `agent`; one per occurrence. */
export function readBlockBodies(value: unknown, field: string): Body[] {
  return blockItems(value, field);
}

function blockItems(value: unknown, field: string): Body[] {
  if (!Array.isArray(value) || !value.every(isBody)) {
    throw new PolicyError(
      'MALFORMED',
      field,
      JSON.stringify(value) ?? '',
      `invalid acl policy: ${field} must be a block, but it is ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Reads an optional string attribute; '' reads as absent, as in Nomad. */
export function readString(body: Body, key: string, field: string): string | null {
  const value = body[key];
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string') {
    throw new PolicyError(
      'MALFORMED',
      `${field}.${key}`,
      JSON.stringify(value),
      `invalid acl policy: ${key} in ${field} must be a string, but it is ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Reads an optional list of strings; absent reads as []. */
export function readStringList(body: Body, key: string, field: string): string[] {
  const value = body[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new PolicyError(
      'INVALID_CAPABILITY',
      `${field}.${key}`,
      JSON.stringify(value),
      `invalid acl policy: ${key} in ${field} must be a list of strings, as in ${key} = ["read"], but it is ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Formats a block's place for messages and `PolicyError.field`: `namespace "dev"`. */
export function blockField(type: string, label: string | null): string {
  return label === null ? type : `${type} ${JSON.stringify(label)}`;
}

/** Joins names for a message: `a, b or c`. */
export function oneOf(names: readonly string[]): string {
  return joinNames(names, 'or');
}

/** Joins names for a message: `a, b and c`. */
export function allOf(names: readonly string[]): string {
  return joinNames(names, 'and');
}

function joinNames(names: readonly string[], conjunction: string): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} ${conjunction} ${names.at(-1)}`;
}
