import {
  expandHostVolumePolicy,
  expandNodePoolPolicy,
  expandOperatorPolicy,
  expandSentinelPolicy,
  HOST_VOLUME_CAPABILITIES,
  NODE_POOL_CAPABILITIES,
  OPERATOR_CAPABILITIES,
  PLUGIN_POLICY_LEVELS,
  POLICY_LEVELS,
  type PolicyLevel,
  SENTINEL_CAPABILITIES,
} from './capabilities.js';
import { decodeRules } from './decode-rules.js';
import {
  allOf,
  type Body,
  type LabeledBlock,
  oneOf,
  readBlockBodies,
  readLabeledBlocks,
} from './hcl-blocks.js';
import { parseNamespace } from './parse-namespace.js';
import type {
  HostVolumeRule,
  LevelRule,
  NodePoolRule,
  OperatorRule,
  Policy,
  SentinelRule,
} from './policy.js';
import { EMPTY_POLICY } from './policy.js';
import { missingLabelError, PolicyError } from './policy-error.js';
import {
  checkBlockKeys,
  type PolicyParseMode,
  readCapabilities,
  readPolicyLevel,
  strongerLevel,
} from './policy-fields.js';

const LABELED_TYPES = ['namespace', 'node_pool', 'host_volume'] as const;
/** Blocks without a label, each allowed once per policy. */
const SINGLETON_TYPES = ['agent', 'node', 'operator', 'quota', 'plugin', 'sentinel'] as const;
const KNOWN_KEYS: readonly string[] = [...LABELED_TYPES, ...SINGLETON_TYPES];

/** Node pool names and globs also allow '_'. */
const NODE_POOL_LABEL = /^[a-zA-Z0-9_*-]{1,128}$/;
const HOST_VOLUME_LABEL = /^[a-zA-Z0-9*-]{1,128}$/;

/**
 * Parses ACL policy rules, in HCL1 or in their JSON form, and expands every `policy` shorthand
 * into capabilities. Empty text is a valid policy that grants nothing.
 *
 * Writers use 'strict', which rejects unknown keys and repeated singleton blocks. Readers of stored
 * policies use 'lenient', which ignores unknown keys and merges repeated singleton blocks as
 * separate policies merge (deny first, then the higher level), so a stored policy keeps working
 * after the language changes.
 *
 * @throws PolicyError for rules that do not parse or break a rule of the language.
 */
export function parsePolicy(rules: string, mode: PolicyParseMode): Policy {
  if (rules === '') return EMPTY_POLICY;
  const root = decodeRules(rules);

  const namespaceBlocks = labeledBlocksOf(root, 'namespace');
  const nodePoolBlocks = labeledBlocksOf(root, 'node_pool');
  const hostVolumeBlocks = labeledBlocksOf(root, 'host_volume');
  const singletons = new Map(SINGLETON_TYPES.map((type) => [type, bodiesOf(root, type)]));
  const blockCount =
    namespaceBlocks.length +
    nodePoolBlocks.length +
    hostVolumeBlocks.length +
    [...singletons.values()].reduce((sum, bodies) => sum + bodies.length, 0);
  if (blockCount === 0) throw noRulesError(root);

  const namespaces = namespaceBlocks.map((block) => parseNamespace(block, mode));
  const nodePools = nodePoolBlocks.map((block) => parseNodePool(block, mode));
  const hostVolumes = hostVolumeBlocks.map((block) => parseHostVolume(block, mode));
  if (mode === 'strict') checkTopLevelKeys(root, singletons);

  return {
    namespaces,
    nodePools,
    hostVolumes,
    agent: parseLevelBlock('agent', singletons.get('agent')!, POLICY_LEVELS, mode),
    node: parseLevelBlock('node', singletons.get('node')!, POLICY_LEVELS, mode),
    operator: parseOperator(singletons.get('operator')!, mode),
    quota: parseLevelBlock('quota', singletons.get('quota')!, POLICY_LEVELS, mode),
    plugin: parseLevelBlock('plugin', singletons.get('plugin')!, PLUGIN_POLICY_LEVELS, mode),
    sentinel: parseSentinel(singletons.get('sentinel')!, mode),
  };
}

function labeledBlocksOf(root: Body, type: string): LabeledBlock[] {
  return root[type] === undefined ? [] : readLabeledBlocks(root[type], type);
}

function bodiesOf(root: Body, type: string): Body[] {
  return root[type] === undefined ? [] : readBlockBodies(root[type], type);
}

function noRulesError(root: Body): PolicyError {
  const keys = Object.keys(root).sort();
  const found = keys.length === 0 ? 'it has no keys' : `its top-level keys are ${keys.join(', ')}`;
  return new PolicyError(
    'NO_RULES',
    '',
    keys.join(', '),
    `Invalid policy: the rules set no ${oneOf(KNOWN_KEYS)} block (${found}). ` +
      'Pass the rules text of a policy, not the whole policy object',
  );
}

function checkTopLevelKeys(root: Body, singletons: ReadonlyMap<string, readonly Body[]>): void {
  const offending = Object.keys(root).filter((key) => !KNOWN_KEYS.includes(key));
  for (const [type, bodies] of singletons) {
    if (bodies.length > 1) offending.push(type);
  }
  if (offending.length === 0) return;
  offending.sort();
  const list = offending.join(', ');
  throw new PolicyError(
    'UNKNOWN_OR_DUPLICATE_KEY',
    '',
    list,
    `Invalid or duplicate policy keys: ${list}. The known blocks are ${allOf(KNOWN_KEYS)}. ` +
      `Of them, ${allOf(SINGLETON_TYPES)} may each appear once`,
  );
}

function checkLabel(
  type: string,
  blockName: string,
  label: string | null,
  pattern: RegExp,
  allowed: string,
): string {
  if (label === null) throw missingLabelError(type, blockName);
  if (pattern.test(label)) return label;
  throw new PolicyError(
    'INVALID_NAME',
    `${type} ${JSON.stringify(label)}`,
    label,
    `Invalid ${blockName} name ${JSON.stringify(label)}: a ${blockName} name or glob has 1 to 128 ${allowed}`,
  );
}

function parseNodePool(block: LabeledBlock, mode: PolicyParseMode): NodePoolRule {
  const label = checkLabel(
    'node_pool',
    'node pool',
    block.label,
    NODE_POOL_LABEL,
    "letters, digits, '-', '_' or '*'",
  );
  const field = `node_pool ${JSON.stringify(label)}`;
  const where = ` in ${field}`;
  const policy = readPolicyLevel(block.body, field, POLICY_LEVELS, 'node pool', where);
  const capabilities = readCapabilities(block.body, field, NODE_POOL_CAPABILITIES, 'node pool', where);
  if (policy !== null) capabilities.push(...expandNodePoolPolicy(policy));
  checkBlockKeys(block.body, ['policy', 'capabilities'], field, mode);
  return { label, policy, capabilities };
}

function parseHostVolume(block: LabeledBlock, mode: PolicyParseMode): HostVolumeRule {
  const label = checkLabel(
    'host_volume',
    'host volume',
    block.label,
    HOST_VOLUME_LABEL,
    "letters, digits, '-' or '*'",
  );
  const field = `host_volume ${JSON.stringify(label)}`;
  const where = ` in ${field}`;
  const policy = readPolicyLevel(block.body, field, POLICY_LEVELS, 'host volume', where);
  const capabilities = readCapabilities(block.body, field, HOST_VOLUME_CAPABILITIES, 'host volume', where);
  if (policy !== null) capabilities.push(...expandHostVolumePolicy(policy));
  checkBlockKeys(block.body, ['policy', 'capabilities'], field, mode);
  return { label, policy, capabilities };
}

/** Parses agent, node, quota or plugin: a required `policy` and nothing else. */
function parseLevelBlock(
  type: string,
  bodies: readonly Body[],
  levels: readonly PolicyLevel[],
  mode: PolicyParseMode,
): LevelRule | null {
  let merged: PolicyLevel | null = null;
  for (const body of bodies) {
    const policy = readPolicyLevel(body, type, levels, type, '');
    if (policy === null) throw missingPolicyError(type, `Set policy to ${oneOf(levels)}`);
    checkBlockKeys(body, ['policy'], type, mode);
    merged = strongerLevel(merged, policy);
  }
  return merged === null ? null : { policy: merged };
}

function parseOperator(bodies: readonly Body[], mode: PolicyParseMode): OperatorRule | null {
  return parseCapabilityBlock('operator', bodies, OPERATOR_CAPABILITIES, expandOperatorPolicy, mode);
}

function parseSentinel(bodies: readonly Body[], mode: PolicyParseMode): SentinelRule | null {
  return parseCapabilityBlock('sentinel', bodies, SENTINEL_CAPABILITIES, expandSentinelPolicy, mode);
}

/** Parses operator or sentinel: a `policy`, `capabilities`, or both. */
function parseCapabilityBlock<C extends string>(
  type: string,
  bodies: readonly Body[],
  allowed: readonly C[],
  expand: (level: PolicyLevel) => C[],
  mode: PolicyParseMode,
): { policy: PolicyLevel | null; capabilities: C[] } | null {
  if (bodies.length === 0) return null;
  let policy: PolicyLevel | null = null;
  const capabilities: C[] = [];
  for (const body of bodies) {
    const level = readPolicyLevel(body, type, POLICY_LEVELS, type, '');
    const explicit = readCapabilities(body, type, allowed, type, '');
    if (level === null && explicit.length === 0) {
      throw missingPolicyError(type, `Set policy to ${oneOf(POLICY_LEVELS)}, or list capabilities`);
    }
    checkBlockKeys(body, ['policy', 'capabilities'], type, mode);
    capabilities.push(...explicit);
    if (level !== null) capabilities.push(...expand(level));
    policy = strongerLevel(policy, level);
  }
  return { policy, capabilities };
}

function missingPolicyError(type: string, fix: string): PolicyError {
  return new PolicyError(
    'INVALID_POLICY',
    `${type}.policy`,
    '',
    `Invalid ${type} policy: the ${type} block has no policy. ${fix}`,
  );
}
