import { HclSyntaxError, parseHcl } from '../server/hcl.js';
import type { Body } from './hcl-blocks.js';
import { missingLabelError, PolicyError } from './policy-error.js';

const ORIGIN = 'ACL policy';
const SYNTAX_PREFIX = `invalid syntax in ${ORIGIN}: `;

/**
 * Decodes rules text (HCL1 or JSON) into HCL1's generic structure. Syntax errors become
 * `Failed to parse ACL Policy: At LINE:COLUMN: ...`, and a failure inside the HCL library itself
 * (it throws on an invalid escape such as "\500") becomes `invalid acl policy: ...`, as in Nomad.
 */
export function decodeRules(rules: string): Body {
  const depth = nestingDepth(rules);
  if (depth > MAX_NESTING) {
    // js-hcl-parser recurses per level: thousands of levels take seconds and overflow the stack,
    // after which every later parse in the same thread fails too.
    throw new PolicyError(
      'MALFORMED',
      '',
      '',
      `invalid acl policy: blocks and lists nest ${depth} levels deep, more than the ${MAX_NESTING} allowed`,
    );
  }
  try {
    return parseHcl(rules, ORIGIN);
  } catch (err) {
    // A stack overflow leaves the parser's state broken: let it end the thread, not become a 400.
    if (err instanceof RangeError) throw err;
    if (err instanceof HclSyntaxError) {
      const detail = err.message.startsWith(SYNTAX_PREFIX)
        ? err.message.slice(SYNTAX_PREFIX.length)
        : err.message;
      throw (
        labelErrorOfDecoder(detail) ??
        new PolicyError('SYNTAX', '', '', `Failed to parse ACL Policy: ${detail}`)
      );
    }
    if (err instanceof Error) {
      throw new PolicyError('MALFORMED', '', '', `invalid acl policy: ${err.message}`);
    }
    throw err;
  }
}

/** Deepest nesting of blocks and lists accepted; real policies nest four levels (namespace, variables, path). */
const MAX_NESTING = 32;

/** Returns the deepest nesting of `{` and `[` outside double-quoted strings and HCL comments. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '#' || (char === '/' && text[i + 1] === '/')) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (char === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
    } else if (char === '{' || char === '[') {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === '}' || char === ']') {
      depth--;
    }
  }
  return deepest;
}

/**
 * Decoder message for mixed labels, such as
 * `At -: root.namespace[0].dev[0].variables[0].path[1]: map must have string keys`.
 */
const MIXED_LABELS = /^At -: root((?:\.[^.[\]]+\[\d+\])+): map must have string keys$/;
const SEGMENT = /\.([^.[\]]+)\[\d+\]/g;
const LABELED_BLOCK_NAMES: ReadonlyMap<string, string> = new Map([
  ['namespace', 'namespace'],
  ['node_pool', 'node pool'],
  ['host_volume', 'host volume'],
]);

/**
 * HCL1's decoder cannot build its generic structure when blocks of one type mix labeled and
 * unlabeled ones, and reports only the place. When that place is a namespace, node pool, host
 * volume or variables path block, the cause is a missing label, which gets Nomad's message for it.
 */
function labelErrorOfDecoder(detail: string): PolicyError | null {
  const match = MIXED_LABELS.exec(detail);
  if (match === null) return null;
  const names = [...match[1]!.matchAll(SEGMENT)].map((segment) => segment[1]!);

  if (names.length === 1) {
    const type = names[0]!;
    const blockName = LABELED_BLOCK_NAMES.get(type);
    if (blockName === undefined) return null;
    return missingLabelError(type, blockName);
  }
  if (names.length === 4 && names[0] === 'namespace' && names[2] === 'variables' && names[3] === 'path') {
    const namespace = names[1]!;
    return new PolicyError(
      'INVALID_VARIABLE_PATH',
      `namespace ${JSON.stringify(namespace)}.variables.path`,
      '',
      `Invalid missing variable path in namespace ${namespace}: every path block needs a path, as in path "nomad/jobs/*" { ... }`,
    );
  }
  return null;
}
