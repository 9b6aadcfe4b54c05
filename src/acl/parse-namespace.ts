import {
  expandNamespacePolicy,
  expandVariableCapabilities,
  impliedHostVolumeCapabilities,
  NAMESPACE_CAPABILITIES,
  POLICY_LEVELS,
  VARIABLE_CAPABILITIES,
} from './capabilities.js';
import { type LabeledBlock, readBlockBodies, readLabeledBlocks } from './hcl-blocks.js';
import type { NamespaceRule, VariableRule } from './policy.js';
import { missingLabelError, PolicyError } from './policy-error.js';
import { checkBlockKeys, type PolicyParseMode, readCapabilities, readPolicyLevel } from './policy-fields.js';

/** Namespace names and globs: letters, digits, '-' and '*'. No '_', unlike node pools. */
const NAMESPACE_LABEL = /^[a-zA-Z0-9*-]{1,128}$/;

/** Parses one `namespace` block: checks it, expands its capabilities and reads its variables rules. */
export function parseNamespace(block: LabeledBlock, mode: PolicyParseMode): NamespaceRule {
  const label = namespaceLabel(block);
  const field = `namespace ${JSON.stringify(label)}`;
  const where = ` in ${field}`;
  const { body } = block;

  const policy = readPolicyLevel(body, field, POLICY_LEVELS, 'namespace', where);
  const capabilities = readCapabilities(body, field, NAMESPACE_CAPABILITIES, 'namespace', where);
  if (policy !== null) capabilities.push(...expandNamespacePolicy(policy));
  capabilities.push(...impliedHostVolumeCapabilities(capabilities));

  const variables = body.variables === undefined ? [] : parseVariables(body.variables, label, field, mode);
  checkBlockKeys(body, ['policy', 'capabilities', 'variables'], field, mode);
  return { label, policy, capabilities, variables };
}

function namespaceLabel(block: LabeledBlock): string {
  const { label } = block;
  if (label === null && Object.keys(block.body).length === 0) {
    // Nomad's HCL decoder fails on `namespace {}`, so its message differs from the labelled cases.
    throw new PolicyError(
      'INVALID_NAME',
      'namespace',
      '',
      'invalid acl policy: a namespace block has no name and no rules. Write it as namespace "NAME" { ... }',
    );
  }
  if (label === null) throw missingLabelError('namespace', 'namespace');
  if (!NAMESPACE_LABEL.test(label)) {
    throw new PolicyError(
      'INVALID_NAME',
      `namespace ${JSON.stringify(label)}`,
      label,
      `Invalid namespace name ${JSON.stringify(label)}: a namespace name or glob has 1 to 128 letters, digits, '-' or '*'`,
    );
  }
  return label;
}

function parseVariables(
  value: unknown,
  namespace: string,
  namespaceField: string,
  mode: PolicyParseMode,
): VariableRule[] {
  const field = `${namespaceField}.variables`;
  const bodies = readBlockBodies(value, field);
  if (mode === 'strict' && bodies.length > 1) {
    throw new PolicyError(
      'UNKNOWN_OR_DUPLICATE_KEY',
      field,
      'variables',
      `Invalid or duplicate policy keys: variables appears ${bodies.length} times in ${namespaceField}, expected once`,
    );
  }

  const rules: VariableRule[] = [];
  for (const body of bodies) {
    const paths = body.path === undefined ? [] : readLabeledBlocks(body.path, `${field}.path`);
    if (paths.length === 0) {
      throw new PolicyError(
        'INVALID_VARIABLE_PATH',
        field,
        '',
        `Invalid variable policy: no variable paths in namespace ${namespace}. ` +
          'Write the rules as path "PATH" { capabilities = [...] } blocks inside variables',
      );
    }
    for (const path of paths) rules.push(parseVariablePath(path, namespace, field, mode));
    checkBlockKeys(body, ['path'], field, mode);
  }
  return rules;
}

function parseVariablePath(
  block: LabeledBlock,
  namespace: string,
  variablesField: string,
  mode: PolicyParseMode,
): VariableRule {
  const path = block.label ?? '';
  if (path === '') {
    throw new PolicyError(
      'INVALID_VARIABLE_PATH',
      `${variablesField}.path`,
      '',
      `Invalid missing variable path in namespace ${namespace}: every path block needs a path, as in path "nomad/jobs/*" { ... }`,
    );
  }
  const field = `${variablesField}.path ${JSON.stringify(path)}`;
  if (path.startsWith('/')) {
    throw new PolicyError(
      'INVALID_VARIABLE_PATH',
      field,
      path,
      `Invalid variable path ${JSON.stringify(path)} in namespace ${namespace}: cannot start with a leading '/'. ` +
        `Write it as ${JSON.stringify(path.replace(/^\/+/, ''))}`,
    );
  }
  const capabilities = readCapabilities(
    block.body,
    field,
    VARIABLE_CAPABILITIES,
    'variable',
    ` in namespace ${namespace}`,
  );
  checkBlockKeys(block.body, ['capabilities'], field, mode);
  return { path, capabilities: expandVariableCapabilities(capabilities) };
}
