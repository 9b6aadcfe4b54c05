/**
 * The syntax tree of a parsed template, shaped like the node types of Go's text/template/parse. Every
 * node records the UTF-16 offset where it starts, from which errors compute line and column.
 */
import type { GoFloat } from './literals.js';

interface NodeBase {
  readonly start: number;
}

export interface TextNode extends NodeBase {
  readonly kind: 'text';
  readonly text: string;
}

/** `{{pipeline}}`: prints the pipeline's value unless the pipeline declares or assigns variables. */
export interface ActionNode extends NodeBase {
  readonly kind: 'action';
  readonly pipe: PipeNode;
}

/** `{{if}}` and `{{with}}`; `with` also sets dot to the pipeline's value in its list. */
export interface ConditionalNode extends NodeBase {
  readonly kind: 'if' | 'with';
  readonly pipe: PipeNode;
  readonly list: readonly Node[];
  readonly elseList: readonly Node[] | null;
  /**
   * True for the node that `{{else if}}` or `{{else with}}` introduced. Such a node is the only entry
   * of its parent's elseList and ends at the parent's `{{end}}`.
   */
  readonly chained: boolean;
}

export interface RangeNode extends NodeBase {
  readonly kind: 'range';
  readonly pipe: PipeNode;
  readonly list: readonly Node[];
  readonly elseList: readonly Node[] | null;
}

export interface BreakNode extends NodeBase {
  readonly kind: 'break';
}

export interface ContinueNode extends NodeBase {
  readonly kind: 'continue';
}

export type Node = TextNode | ActionNode | ConditionalNode | RangeNode | BreakNode | ContinueNode;

/** A declared or assigned variable of a pipeline, such as `$x` in `$x := .A`. */
export interface VariableDeclaration {
  readonly name: string;
  readonly start: number;
}

/** `$x := cmd | cmd`: commands joined by `|`, each one's value passed as the next one's last argument. */
export interface PipeNode extends NodeBase {
  readonly kind: 'pipe';
  readonly declarations: readonly VariableDeclaration[];
  /** True for `=` (assignment to existing variables), false for `:=` or no declaration. */
  readonly isAssign: boolean;
  readonly commands: readonly CommandNode[];
}

/** One stage of a pipeline: an operand, and for a function or a field further operands as arguments. */
export interface CommandNode extends NodeBase {
  readonly kind: 'command';
  readonly args: readonly Operand[];
}

/** `.A.B`: a path of map keys looked up from dot. */
export interface FieldNode extends NodeBase {
  readonly kind: 'field';
  readonly path: readonly string[];
}

/** `$x.A.B`: a variable, then a path of map keys looked up from its value. */
export interface VariableNode extends NodeBase {
  readonly kind: 'variable';
  readonly name: string;
  readonly path: readonly string[];
}

/** A function name. */
export interface IdentifierNode extends NodeBase {
  readonly kind: 'identifier';
  readonly name: string;
}

/** `(pipeline).A.B` or `function.A.B`: keys looked up from the value of a term. */
export interface ChainNode extends NodeBase {
  readonly kind: 'chain';
  readonly node: IdentifierNode | PipeNode;
  readonly path: readonly string[];
}

export interface DotNode extends NodeBase {
  readonly kind: 'dot';
}

export interface NilNode extends NodeBase {
  readonly kind: 'nil';
}

export interface BoolNode extends NodeBase {
  readonly kind: 'bool';
  readonly value: boolean;
}

export interface NumberNode extends NodeBase {
  readonly kind: 'number';
  /** The literal as written, for messages. */
  readonly text: string;
  readonly value: number | GoFloat;
}

export interface StringNode extends NodeBase {
  readonly kind: 'string';
  /** The literal as written, quotes included, for messages. */
  readonly quoted: string;
  readonly value: string;
}

export type Operand =
  | FieldNode
  | VariableNode
  | IdentifierNode
  | ChainNode
  | PipeNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode;

/** Renders an operand as it reads in the template, for messages. A parenthesized pipeline renders as `(...)`. */
export function describeOperand(node: Operand): string {
  switch (node.kind) {
    case 'field':
      return `.${node.path.join('.')}`;
    case 'variable':
      return [node.name, ...node.path].join('.');
    case 'identifier':
      return node.name;
    case 'chain':
      return [describeOperand(node.node), ...node.path].join('.');
    case 'pipe':
      return '(...)';
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(node.value);
    case 'number':
      return node.text;
    case 'string':
      return node.quoted;
  }
}
