/** Codes of policy parse failures, which callers switch on. */
export type PolicyErrorCode =
  /** The text is neither HCL1 nor JSON; the message gives the line and column. */
  | 'SYNTAX'
  /** The text parses, but a value has a shape that the policy language has no place for. */
  | 'MALFORMED'
  /** Non-empty rules with no namespace, node_pool, host_volume, agent, node, operator, quota, plugin or sentinel block. */
  | 'NO_RULES'
  /** Strict mode only: a key that the language does not know, or a block that may appear once appears twice. */
  | 'UNKNOWN_OR_DUPLICATE_KEY'
  /** A namespace, node pool or host volume label is missing or has characters outside the allowed set. */
  | 'INVALID_NAME'
  /** A `policy` value that the block does not accept, or a missing one where the block needs it. */
  | 'INVALID_POLICY'
  /** A capability that the block does not accept, or a `capabilities` value that is not a list of strings. */
  | 'INVALID_CAPABILITY'
  /** A `variables` block without paths, a `path` block without a path, or a path with a leading '/'. */
  | 'INVALID_VARIABLE_PATH';

/**
 * A policy that cannot be parsed. Messages keep the fragments of Nomad's messages (`Invalid
 * namespace name`, `Invalid or duplicate policy keys: ...`) so that users recognise them.
 */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly code: PolicyErrorCode;
  /**
   * Place of the problem in HCL terms, such as `namespace "dev".variables.path "/a".capabilities`,
   * or '' for the document as a whole.
   */
  readonly field: string;
  /** The offending value as written (a label, a policy, a capability, sorted keys joined by ", "), or ''. */
  readonly value: string;

  constructor(code: PolicyErrorCode, field: string, value: string, message: string) {
    super(message);
    this.code = code;
    this.field = field;
    this.value = value;
  }
}

/** Error for a namespace, node_pool or host_volume block written without a label. */
export function missingLabelError(type: string, blockName: string): PolicyError {
  return new PolicyError(
    'INVALID_NAME',
    type,
    '',
    `Invalid ${blockName} name "": every ${type} block needs a name, as in ${type} "NAME" { ... }`,
  );
}
