import type { PolicyLevel } from './capabilities.js';
import { type Body, oneOf, readString, readStringList } from './hcl-blocks.js';
import { PolicyError } from './policy-error.js';

/** Check of a block's own keys: strict rejects unknown ones, lenient ignores them. */
export type PolicyParseMode = 'strict' | 'lenient';

/**
 * Reads the optional `policy` of a block. `blockName` is the block in messages ("namespace",
 * "node pool"), and `where` places it (` in namespace "dev"`, or '').
 */
export function readPolicyLevel(
  body: Body,
  field: string,
  levels: readonly PolicyLevel[],
  blockName: string,
  where: string,
): PolicyLevel | null {
  const value = readString(body, 'policy', field);
  if (value === null) return null;
  if (!(levels as readonly string[]).includes(value)) {
    throw new PolicyError(
      'INVALID_POLICY',
      `${field}.policy`,
      value,
      `Invalid ${blockName} policy ${JSON.stringify(value)}${where}: expected ${oneOf(levels)}`,
    );
  }
  return value as PolicyLevel;
}

/** Reads the optional `capabilities` list of a block, each checked against the block's own list. */
export function readCapabilities<C extends string>(
  body: Body,
  field: string,
  allowed: readonly C[],
  blockName: string,
  where: string,
): C[] {
  const values = readStringList(body, 'capabilities', field);
  for (const value of values) {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new PolicyError(
        'INVALID_CAPABILITY',
        `${field}.capabilities`,
        value,
        `Invalid ${blockName} capability ${JSON.stringify(value)}${where}: expected ${oneOf(allowed)}`,
      );
    }
  }
  return [...values] as C[];
}

/**
 * Rejects, in strict mode, keys that a block does not know. Nomad checks only the top level, so
 * this is stricter: a misspelt `capabilites` would otherwise grant nothing without a word.
 */
export function checkBlockKeys(
  body: Body,
  known: readonly string[],
  field: string,
  mode: PolicyParseMode,
): void {
  if (mode !== 'strict') return;
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) {
      throw new PolicyError(
        'UNKNOWN_OR_DUPLICATE_KEY',
        `${field}.${key}`,
        key,
        `Invalid key ${JSON.stringify(key)} in ${field}: expected ${oneOf(known)}`,
      );
    }
  }
}

const LEVEL_RANK: Readonly<Record<PolicyLevel, number>> = { scale: 0, list: 1, read: 2, write: 3, deny: 4 };

/**
 * Returns the level that wins when two blocks set one: deny, then write, read, list. `scale`
 * loses to all of them and grants nothing outside namespaces.
 */
export function strongerLevel(a: PolicyLevel | null, b: PolicyLevel | null): PolicyLevel | null {
  if (a === null) return b;
  if (b === null) return a;
  return LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a;
}
