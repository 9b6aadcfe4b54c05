/**
 * The parser of Go's text/template syntax, following the grammar and the checks of Go's
 * text/template/parse. Variables must be declared before use and live until the `{{end}}` of the
 * block that declared them. `{{break}}` and `{{continue}}` must sit inside a `{{range}}`. Only the
 * first command of a pipeline may be a literal. `{{define}}`, `{{template}}` and `{{block}}`,
 * character constants and complex numbers are rejected as unsupported.
 */
import type {
  CommandNode,
  ConditionalNode,
  Node,
  Operand,
  PipeNode,
  RangeNode,
  VariableDeclaration,
} from './ast.js';
import { TemplateSyntaxError, type TemplateSyntaxErrorCode } from './errors.js';
import { isKeyword, Lexer, type Token, type TokenType } from './lexer.js';
import { parseNumberLiteral, unquoteRawString, unquoteString } from './literals.js';
import { LineIndex } from './position.js';
import { quoteGoString } from './quote.js';

/** Nesting allowed by default: blocks inside blocks plus parenthesized pipelines. */
export const DEFAULT_PARSE_MAX_DEPTH = 100;

export interface ParseOptions {
  /**
   * Deepest nesting of `{{if}}`, `{{with}}` and `{{range}}` blocks and parenthesized pipelines; an
   * `{{else if}}` chain counts once. Default DEFAULT_PARSE_MAX_DEPTH.
   */
  readonly maxDepth?: number;
}

/** A template ready to render. Parse once, render many times. */
export interface ParsedTemplate {
  readonly name: string;
  readonly source: string;
  readonly root: readonly Node[];
  /** Each function name the template uses, with the UTF-16 offset of its first use. */
  readonly functionNames: ReadonlyMap<string, number>;
  readonly lines: LineIndex;
}

/** `{{end}}` or `{{else}}`: ends the list of the enclosing block. */
interface Terminator {
  readonly terminator: 'end' | 'else';
  readonly start: number;
}

type ListItem = Node | Terminator;

function isTerminator(item: ListItem): item is Terminator {
  return 'terminator' in item;
}

const OPERAND_START: ReadonlySet<TokenType> = new Set<TokenType>([
  'bool',
  'charConstant',
  'complex',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

/** Literal operands, which cannot receive the previous command's value. */
const NON_EXECUTABLE: ReadonlySet<Operand['kind']> = new Set<Operand['kind']>([
  'bool',
  'dot',
  'nil',
  'number',
  'string',
]);

/** Go's rendering of a token in "unexpected ..." messages. */
function describeToken(token: Token): string {
  if (token.type === 'eof') return 'EOF';
  if (isKeyword(token.type)) return `<${token.value}>`;
  const chars = [...token.value];
  if (chars.length > 10) return `${quoteGoString(chars.slice(0, 10).join(''))}...`;
  return quoteGoString(token.value);
}

class Parser {
  readonly #name: string;
  readonly #source: string;
  readonly #lines: LineIndex;
  readonly #lexer: Lexer;
  readonly #maxDepth: number;
  /** Tokens read ahead and put back; the last one is returned next. */
  readonly #pending: Token[] = [];
  /** Variables in scope, innermost last; `$` is always there. */
  readonly #vars: string[] = ['$'];
  readonly #functionNames = new Map<string, number>();
  #rangeDepth = 0;
  #depth = 0;

  constructor(source: string, name: string, maxDepth: number) {
    this.#name = name;
    this.#source = source;
    this.#lines = new LineIndex(source);
    this.#maxDepth = maxDepth;
    this.#lexer = new Lexer(source, (offset, reason) => this.#fail(offset, reason));
  }

  parse(): ParsedTemplate {
    const root: Node[] = [];
    while (this.#peek().type !== 'eof') {
      const item = this.#textOrAction();
      if (isTerminator(item)) this.#fail(item.start, `unexpected {{${item.terminator}}}`);
      root.push(item);
    }
    return {
      name: this.#name,
      source: this.#source,
      root,
      functionNames: this.#functionNames,
      lines: this.#lines,
    };
  }

  #fail(offset: number, reason: string, code: TemplateSyntaxErrorCode = 'SYNTAX'): never {
    throw new TemplateSyntaxError(code, this.#name, this.#lines.positionAt(offset), reason);
  }

  #unexpected(token: Token, context: string): never {
    return this.#fail(token.start, `unexpected ${describeToken(token)} in ${context}`);
  }

  #next(): Token {
    return this.#pending.pop() ?? this.#lexer.next();
  }

  #unread(token: Token): void {
    this.#pending.push(token);
  }

  #peek(): Token {
    const token = this.#next();
    this.#unread(token);
    return token;
  }

  #nextNonSpace(): Token {
    for (;;) {
      const token = this.#next();
      if (token.type !== 'space') return token;
    }
  }

  #peekNonSpace(): Token {
    const token = this.#nextNonSpace();
    this.#unread(token);
    return token;
  }

  #expect(type: TokenType, context: string): Token {
    const token = this.#nextNonSpace();
    if (token.type !== type) this.#unexpected(token, context);
    return token;
  }

  #enter(offset: number): void {
    if (this.#depth >= this.#maxDepth) {
      this.#fail(
        offset,
        `blocks and parentheses nest deeper than the limit of ${this.#maxDepth}`,
        'DEPTH_LIMIT',
      );
    }
    this.#depth++;
  }

  #leave(): void {
    this.#depth--;
  }

  /** Parses the items of a block up to its `{{end}}` or `{{else}}`, which it returns separately. */
  #itemList(): { list: Node[]; next: Terminator } {
    const list: Node[] = [];
    while (this.#peekNonSpace().type !== 'eof') {
      const item = this.#textOrAction();
      if (isTerminator(item)) return { list, next: item };
      list.push(item);
    }
    return this.#fail(this.#source.length, 'unexpected EOF');
  }

  #textOrAction(): ListItem {
    const token = this.#nextNonSpace();
    if (token.type === 'text') return { kind: 'text', text: token.value, start: token.start };
    if (token.type === 'leftDelim') return this.#action(token);
    return this.#unexpected(token, 'input');
  }

  #action(delim: Token): ListItem {
    const token = this.#nextNonSpace();
    switch (token.type) {
      case 'block':
      case 'define':
      case 'template':
        return this.#fail(
          token.start,
          `{{${token.type}}} is not supported: this engine renders one template without named templates`,
          'UNSUPPORTED',
        );
      case 'break':
      case 'continue':
        return this.#loopControl(token);
      case 'else':
        return this.#elseControl(token);
      case 'end':
        this.#expect('rightDelim', 'end');
        return { terminator: 'end', start: token.start };
      case 'if':
      case 'with':
      case 'range':
        return this.#control(token.type, delim.start);
    }
    this.#unread(token);
    return { kind: 'action', pipe: this.#pipeline('command', 'rightDelim'), start: delim.start };
  }

  #loopControl(keyword: Token): Node {
    const kind = keyword.type === 'break' ? 'break' : 'continue';
    const token = this.#nextNonSpace();
    if (token.type !== 'rightDelim') this.#unexpected(token, `{{${kind}}}`);
    if (this.#rangeDepth === 0) this.#fail(keyword.start, `{{${kind}}} outside {{range}}`);
    return { kind, start: keyword.start };
  }

  #elseControl(keyword: Token): Terminator {
    const following = this.#peekNonSpace();
    // `{{else if ...}}` and `{{else with ...}}` leave the keyword for the enclosing block to read.
    if (following.type !== 'if' && following.type !== 'with') this.#expect('rightDelim', 'else');
    return { terminator: 'else', start: keyword.start };
  }

  /**
   * Parses `{{if}}`, `{{with}}` or `{{range}}` up to its `{{end}}`. A chain of `{{else if}}` (or
   * `{{else with}}`) is read in a loop and becomes nested nodes marked `chained`, as Go nests them,
   * without counting each link against the depth limit.
   */
  #control(kind: 'if' | 'with' | 'range', start: number): Node {
    const varsMark = this.#vars.length;
    this.#enter(start);
    const links: { pipe: PipeNode; list: Node[]; start: number }[] = [];
    let elseList: Node[] | null = null;
    let linkStart = start;
    for (;;) {
      const pipe = this.#pipeline(kind, 'rightDelim');
      if (kind === 'range') this.#rangeDepth++;
      const body = this.#itemList();
      if (kind === 'range') this.#rangeDepth--;
      links.push({ pipe, list: body.list, start: linkStart });
      if (body.next.terminator === 'end') break;
      if (kind !== 'range' && this.#peek().type === kind) {
        this.#next();
        linkStart = body.next.start;
        continue;
      }
      const rest = this.#itemList();
      if (rest.next.terminator !== 'end') this.#fail(rest.next.start, 'expected end; found {{else}}');
      elseList = rest.list;
      break;
    }
    this.#vars.length = varsMark;
    this.#leave();
    return this.#nestLinks(kind, links, elseList);
  }

  #nestLinks(
    kind: 'if' | 'with' | 'range',
    links: readonly { pipe: PipeNode; list: Node[]; start: number }[],
    elseList: Node[] | null,
  ): Node {
    if (kind === 'range') {
      const link = links[0]!;
      const range: RangeNode = {
        kind: 'range',
        pipe: link.pipe,
        list: link.list,
        elseList,
        start: link.start,
      };
      return range;
    }
    let node: ConditionalNode | null = null;
    for (let i = links.length - 1; i >= 0; i--) {
      const link = links[i]!;
      node = {
        kind,
        pipe: link.pipe,
        list: link.list,
        elseList: node ? [node] : elseList,
        chained: i > 0,
        start: link.start,
      };
    }
    return node!;
  }

  /** Parses `declarations? command ('|' command)*` up to the end token. */
  #pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.#peekNonSpace().start;
    const declarations: VariableDeclaration[] = [];
    let isAssign = false;
    for (;;) {
      const variable = this.#peekNonSpace();
      if (variable.type !== 'variable') break;
      this.#next();
      const adjacent = this.#peek();
      const following = this.#peekNonSpace();
      if (following.type === 'assign' || following.type === 'declare') {
        isAssign = following.type === 'assign';
        this.#nextNonSpace();
        declarations.push({ name: variable.value, start: variable.start });
        this.#vars.push(variable.value);
        break;
      }
      if (following.type === 'char' && following.value === ',') {
        this.#nextNonSpace();
        declarations.push({ name: variable.value, start: variable.start });
        this.#vars.push(variable.value);
        if (context === 'range' && declarations.length < 2) {
          const second = this.#peekNonSpace();
          if (second.type === 'variable' || second.type === 'rightDelim' || second.type === 'rightParen')
            continue;
          this.#fail(second.start, 'range can only initialize variables');
        }
        this.#fail(following.start, `too many declarations in ${context}`);
      }
      // Not a declaration: put back the variable, and the space after it if there was one.
      if (adjacent.type === 'space') this.#unread(adjacent);
      this.#unread(variable);
      break;
    }
    const commands: CommandNode[] = [];
    for (;;) {
      const token = this.#nextNonSpace();
      if (token.type === end) {
        this.#checkPipeline(commands, context, token);
        return { kind: 'pipe', declarations, isAssign, commands, start };
      }
      if (!OPERAND_START.has(token.type)) this.#unexpected(token, context);
      this.#unread(token);
      commands.push(this.#command());
    }
  }

  #checkPipeline(commands: readonly CommandNode[], context: string, end: Token): void {
    if (commands.length === 0) this.#fail(end.start, `missing value for ${context}`);
    for (let i = 1; i < commands.length; i++) {
      const command = commands[i]!;
      if (NON_EXECUTABLE.has(command.args[0]!.kind)) {
        this.#fail(command.start, `non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  /** Parses space-separated operands up to `|`, which it consumes, or `}}` or `)`, which it leaves. */
  #command(): CommandNode {
    const start = this.#peekNonSpace().start;
    const args: Operand[] = [];
    for (;;) {
      this.#peekNonSpace();
      const operand = this.#operand();
      if (operand) args.push(operand);
      const token = this.#next();
      if (token.type === 'space') continue;
      if (token.type === 'rightDelim' || token.type === 'rightParen') {
        this.#unread(token);
        break;
      }
      if (token.type === 'pipe') break;
      this.#unexpected(token, 'operand');
    }
    if (args.length === 0) this.#fail(start, 'empty command');
    return { kind: 'command', args, start };
  }

  /** Parses a term followed by `.Field` accesses written without spaces. */
  #operand(): Operand | null {
    const node = this.#term();
    if (!node || this.#peek().type !== 'field') return node;
    const chainStart = this.#peek().start;
    const path: string[] = [];
    while (this.#peek().type === 'field') path.push(this.#next().value.slice(1));
    switch (node.kind) {
      case 'field':
        return { kind: 'field', path: [...node.path, ...path], start: node.start };
      case 'variable':
        return { kind: 'variable', name: node.name, path: [...node.path, ...path], start: node.start };
      case 'identifier':
      case 'pipe':
        return { kind: 'chain', node, path, start: node.start };
      default:
        return this.#fail(chainStart, `unexpected . after term ${quoteGoString(this.#termText(node))}`);
    }
  }

  #termText(node: Operand): string {
    switch (node.kind) {
      case 'string':
        return node.quoted;
      case 'number':
        return node.text;
      case 'bool':
        return String(node.value);
      case 'nil':
        return 'nil';
      default:
        return '.';
    }
  }

  #term(): Operand | null {
    const token = this.#nextNonSpace();
    const start = token.start;
    switch (token.type) {
      case 'identifier':
        if (!this.#functionNames.has(token.value)) this.#functionNames.set(token.value, start);
        return { kind: 'identifier', name: token.value, start };
      case 'dot':
        return { kind: 'dot', start };
      case 'nil':
        return { kind: 'nil', start };
      case 'variable':
        if (!this.#vars.includes(token.value))
          this.#fail(start, `undefined variable ${quoteGoString(token.value)}`);
        return { kind: 'variable', name: token.value, path: [], start };
      case 'field':
        return { kind: 'field', path: [token.value.slice(1)], start };
      case 'bool':
        return { kind: 'bool', value: token.value === 'true', start };
      case 'charConstant':
        return this.#fail(start, `character constant ${token.value} is not supported`, 'UNSUPPORTED');
      case 'complex':
        return this.#fail(start, `complex number ${token.value} is not supported`, 'UNSUPPORTED');
      case 'number': {
        const parsed = parseNumberLiteral(token.value);
        if (!parsed.ok) this.#fail(start, parsed.reason, parsed.unsupported ? 'UNSUPPORTED' : 'SYNTAX');
        return { kind: 'number', text: token.value, value: parsed.value, start };
      }
      case 'leftParen': {
        this.#enter(start);
        const pipe = this.#pipeline('parenthesized pipeline', 'rightParen');
        this.#leave();
        return pipe;
      }
      case 'string': {
        const parsed = unquoteString(token.value);
        if (!parsed.ok) this.#fail(start, parsed.reason, parsed.unsupported ? 'UNSUPPORTED' : 'SYNTAX');
        return { kind: 'string', quoted: token.value, value: parsed.value, start };
      }
      case 'rawString':
        return { kind: 'string', quoted: token.value, value: unquoteRawString(token.value), start };
      default:
        this.#unread(token);
        return null;
    }
  }
}

/**
 * Parses a template written in Go's text/template syntax. Throws TemplateSyntaxError, with the line
 * and column of the problem, for invalid or unsupported syntax; never another error for a string.
 */
export function parseTemplate(source: string, name: string, options: ParseOptions = {}): ParsedTemplate {
  if (typeof source !== 'string') throw new TypeError('parseTemplate: source must be a string');
  const maxDepth = options.maxDepth ?? DEFAULT_PARSE_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new RangeError(`parseTemplate: maxDepth must be a positive integer, got ${maxDepth}`);
  }
  return new Parser(source, name, maxDepth).parse();
}
