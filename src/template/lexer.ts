/**
 * The lexer of Go's text/template syntax with the default `{{` `}}` delimiters. It follows the token
 * rules of Go's text/template/parse package: trim markers need a space (`{{- ` and ` -}}`), comments
 * must touch the delimiters, and an identifier or field must be followed by a terminator.
 */

export type Keyword =
  | 'block'
  | 'break'
  | 'continue'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'identifier'
  /** `.Name`; the value keeps the dot. */
  | 'field'
  /** `$` or `$name`; the value keeps the dollar sign. */
  | 'variable'
  | 'dot'
  | 'bool'
  | 'number'
  /** A number with an imaginary part, such as `1+2i`. */
  | 'complex'
  | 'charConstant'
  /** A double-quoted string; the value keeps the quotes. */
  | 'string'
  /** A back-quoted string; the value keeps the quotes. */
  | 'rawString'
  | 'leftParen'
  | 'rightParen'
  | 'pipe'
  | 'assign'
  | 'declare'
  /** Any other printable ASCII character inside an action, such as the comma of `$i, $v :=`. */
  | 'char'
  | 'eof'
  | Keyword;

export interface Token {
  readonly type: TokenType;
  readonly value: string;
  /** UTF-16 offset of the token's first character in the source. */
  readonly start: number;
}

const KEYWORDS: ReadonlyMap<string, Keyword> = new Map<string, Keyword>([
  ['block', 'block'],
  ['break', 'break'],
  ['continue', 'continue'],
  ['define', 'define'],
  ['else', 'else'],
  ['end', 'end'],
  ['if', 'if'],
  ['nil', 'nil'],
  ['range', 'range'],
  ['template', 'template'],
  ['with', 'with'],
]);

export function isKeyword(type: TokenType): type is Keyword {
  return KEYWORDS.has(type);
}

const LEFT_DELIM = '{{';
const RIGHT_DELIM = '}}';
const LEFT_COMMENT = '/*';
const RIGHT_COMMENT = '*/';
const ALPHANUMERIC = /^[\p{L}\p{Nd}_]$/u;
const DECIMAL_DIGITS = '0123456789_';
const HEX_DIGITS = '0123456789abcdefABCDEF_';

/** Go's template whitespace: only these four characters, never other Unicode spaces. */
function isSpace(char: string | undefined): boolean {
  return char === ' ' || char === '\t' || char === '\r' || char === '\n';
}

function isAlphanumeric(char: string | undefined): boolean {
  return char !== undefined && ALPHANUMERIC.test(char);
}

/** Go's `%#U` rendering of a character, as in `U+0007` or `U+00E9 'é'`. */
export function describeCharacter(char: string): string {
  const codePoint = char.codePointAt(0) ?? 0;
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(char) ? `${hex} '${char}'` : hex;
}

/** Reports a lexical error at a UTF-16 offset; it never returns. */
export type LexFailure = (offset: number, reason: string) => never;

/** Produces tokens one at a time, so that errors come out in source order with the parser's. */
export class Lexer {
  readonly #source: string;
  readonly #fail: LexFailure;
  #pos = 0;
  #insideAction = false;
  #parenDepth = 0;
  /** Offset of the `{{` of the action being lexed, for errors that concern the whole action. */
  #actionStart = 0;

  constructor(source: string, fail: LexFailure) {
    this.#source = source;
    this.#fail = fail;
  }

  next(): Token {
    return this.#insideAction ? this.#lexInsideAction() : this.#lexText();
  }

  /** The character (a whole code point) at an offset, or undefined at the end. */
  #charAt(offset: number): string | undefined {
    if (offset >= this.#source.length) return undefined;
    const codePoint = this.#source.codePointAt(offset)!;
    return String.fromCodePoint(codePoint);
  }

  #take(): string | undefined {
    const char = this.#charAt(this.#pos);
    if (char !== undefined) this.#pos += char.length;
    return char;
  }

  #accept(valid: string): boolean {
    const char = this.#charAt(this.#pos);
    if (char !== undefined && valid.includes(char)) {
      this.#pos += char.length;
      return true;
    }
    return false;
  }

  #acceptRun(valid: string): void {
    while (this.#accept(valid)) {
      // Consume the run.
    }
  }

  #lexText(): Token {
    for (;;) {
      const start = this.#pos;
      if (start >= this.#source.length) return { type: 'eof', value: '', start };
      const delim = this.#source.indexOf(LEFT_DELIM, start);
      if (delim === start) {
        const token = this.#lexLeftDelim();
        if (token) return token;
        continue;
      }
      const end = delim < 0 ? this.#source.length : delim;
      let text = this.#source.slice(start, end);
      if (delim >= 0 && this.#hasLeftTrimMarker(delim + LEFT_DELIM.length)) text = trimEndSpaces(text);
      this.#pos = end;
      if (text.length > 0) return { type: 'text', value: text, start };
    }
  }

  #hasLeftTrimMarker(offset: number): boolean {
    return this.#source[offset] === '-' && isSpace(this.#source[offset + 1]);
  }

  #hasRightTrimMarker(offset: number): boolean {
    return isSpace(this.#source[offset]) && this.#source[offset + 1] === '-';
  }

  /** Whether a right delimiter starts at the offset, and whether it carries a trim marker. */
  #rightDelimAt(offset: number): { found: boolean; trim: boolean } {
    if (this.#hasRightTrimMarker(offset) && this.#source.startsWith(RIGHT_DELIM, offset + 2)) {
      return { found: true, trim: true };
    }
    return { found: this.#source.startsWith(RIGHT_DELIM, offset), trim: false };
  }

  /** Lexes `{{`; returns null when it opened a comment, which produces no token. */
  #lexLeftDelim(): Token | null {
    const start = this.#pos;
    this.#pos += LEFT_DELIM.length;
    const afterMarker = this.#hasLeftTrimMarker(this.#pos) ? 2 : 0;
    if (this.#source.startsWith(LEFT_COMMENT, this.#pos + afterMarker)) {
      this.#pos += afterMarker;
      this.#lexComment(start);
      return null;
    }
    this.#pos += afterMarker;
    this.#insideAction = true;
    this.#parenDepth = 0;
    this.#actionStart = start;
    return { type: 'leftDelim', value: LEFT_DELIM, start };
  }

  #lexComment(start: number): void {
    const close = this.#source.indexOf(RIGHT_COMMENT, this.#pos + LEFT_COMMENT.length);
    if (close < 0) this.#fail(start, 'unclosed comment');
    this.#pos = close + RIGHT_COMMENT.length;
    const delim = this.#rightDelimAt(this.#pos);
    if (!delim.found) this.#fail(this.#pos, 'comment ends before closing delimiter');
    this.#pos += (delim.trim ? 2 : 0) + RIGHT_DELIM.length;
    if (delim.trim) this.#skipSpaces();
  }

  #skipSpaces(): void {
    while (isSpace(this.#source[this.#pos])) this.#pos++;
  }

  #lexRightDelim(trim: boolean): Token {
    if (trim) this.#pos += 2;
    const start = this.#pos;
    this.#pos += RIGHT_DELIM.length;
    if (trim) this.#skipSpaces();
    this.#insideAction = false;
    return { type: 'rightDelim', value: RIGHT_DELIM, start };
  }

  #lexInsideAction(): Token {
    const delim = this.#rightDelimAt(this.#pos);
    if (delim.found) {
      if (this.#parenDepth === 0) return this.#lexRightDelim(delim.trim);
      this.#fail(this.#actionStart, 'unclosed left paren');
    }
    const start = this.#pos;
    const char = this.#take();
    if (char === undefined) this.#fail(this.#actionStart, 'unclosed action');
    if (isSpace(char)) return this.#lexSpace(start);
    switch (char) {
      case '=':
        return this.#token('assign', start);
      case ':':
        if (this.#take() !== '=') this.#fail(start, 'expected :=');
        return this.#token('declare', start);
      case '|':
        return this.#token('pipe', start);
      case '"':
        return this.#lexQuote(start);
      case '`':
        return this.#lexRawQuote(start);
      case '$':
        return this.#lexFieldOrVariable('variable', start);
      case "'":
        return this.#lexCharConstant(start);
      case '(':
        this.#parenDepth++;
        return this.#token('leftParen', start);
      case ')':
        this.#parenDepth--;
        if (this.#parenDepth < 0) this.#fail(start, 'unexpected right paren');
        return this.#token('rightParen', start);
    }
    if (char === '.') {
      const following = this.#source[this.#pos];
      // `.5` is a number, `.Name` a field.
      if (following === undefined || following < '0' || following > '9') {
        return this.#lexFieldOrVariable('field', start);
      }
    }
    if (char === '.' || char === '+' || char === '-' || (char >= '0' && char <= '9')) {
      this.#pos = start;
      return this.#lexNumber(start);
    }
    if (isAlphanumeric(char)) return this.#lexIdentifier(start);
    const codePoint = char.codePointAt(0)!;
    if (codePoint >= 0x20 && codePoint < 0x7f) return this.#token('char', start);
    return this.#fail(start, `unrecognized character in action: ${describeCharacter(char)}`);
  }

  #token(type: TokenType, start: number): Token {
    return { type, value: this.#source.slice(start, this.#pos), start };
  }

  #lexSpace(start: number): Token {
    let count = 1;
    while (isSpace(this.#source[this.#pos])) {
      this.#pos++;
      count++;
    }
    // The last space may belong to a ` -}}` trim marker.
    if (this.#hasRightTrimMarker(this.#pos - 1) && this.#source.startsWith(RIGHT_DELIM, this.#pos + 1)) {
      this.#pos--;
      if (count === 1) return this.#lexRightDelim(true);
    }
    return this.#token('space', start);
  }

  /** Whether the next character may follow an identifier, field or variable. */
  #atTerminator(): boolean {
    const char = this.#source[this.#pos];
    if (char === undefined || isSpace(char)) return true;
    if ('.,|:()'.includes(char)) return true;
    return this.#source.startsWith(RIGHT_DELIM, this.#pos);
  }

  #failBadCharacter(): never {
    const char = this.#charAt(this.#pos) ?? '';
    return this.#fail(this.#pos, `bad character ${describeCharacter(char)}`);
  }

  #lexFieldOrVariable(type: 'field' | 'variable', start: number): Token {
    if (this.#atTerminator()) return this.#token(type === 'variable' ? 'variable' : 'dot', start);
    while (isAlphanumeric(this.#charAt(this.#pos))) this.#take();
    if (!this.#atTerminator()) this.#failBadCharacter();
    return this.#token(type, start);
  }

  #lexIdentifier(start: number): Token {
    while (isAlphanumeric(this.#charAt(this.#pos))) this.#take();
    if (!this.#atTerminator()) this.#failBadCharacter();
    const word = this.#source.slice(start, this.#pos);
    const keyword = KEYWORDS.get(word);
    if (keyword) return this.#token(keyword, start);
    if (word === 'true' || word === 'false') return this.#token('bool', start);
    return this.#token('identifier', start);
  }

  #lexCharConstant(start: number): Token {
    for (;;) {
      const char = this.#take();
      if (char === '\\') {
        const escaped = this.#take();
        if (escaped !== undefined && escaped !== '\n') continue;
      }
      if (char === undefined || char === '\n' || char === '\\')
        this.#fail(start, 'unterminated character constant');
      if (char === "'") return this.#token('charConstant', start);
    }
  }

  #lexQuote(start: number): Token {
    for (;;) {
      const char = this.#take();
      if (char === '\\') {
        const escaped = this.#take();
        if (escaped !== undefined && escaped !== '\n') continue;
      }
      if (char === undefined || char === '\n' || char === '\\')
        this.#fail(start, 'unterminated quoted string');
      if (char === '"') return this.#token('string', start);
    }
  }

  #lexRawQuote(start: number): Token {
    const close = this.#source.indexOf('`', this.#pos);
    if (close < 0) this.#fail(start, 'unterminated raw quoted string');
    this.#pos = close + 1;
    return this.#token('rawString', start);
  }

  /** Scans the loose number shape of Go's lexer; the parser checks the exact syntax. */
  #scanNumber(): boolean {
    this.#accept('+-');
    let digits = DECIMAL_DIGITS;
    if (this.#accept('0')) {
      if (this.#accept('xX')) digits = HEX_DIGITS;
      else if (this.#accept('oO')) digits = '01234567_';
      else if (this.#accept('bB')) digits = '01_';
    }
    this.#acceptRun(digits);
    if (this.#accept('.')) this.#acceptRun(digits);
    if (digits === DECIMAL_DIGITS && this.#accept('eE')) {
      this.#accept('+-');
      this.#acceptRun(DECIMAL_DIGITS);
    }
    if (digits === HEX_DIGITS && this.#accept('pP')) {
      this.#accept('+-');
      this.#acceptRun(DECIMAL_DIGITS);
    }
    this.#accept('i');
    if (isAlphanumeric(this.#charAt(this.#pos))) {
      this.#take();
      return false;
    }
    return true;
  }

  #lexNumber(start: number): Token {
    if (!this.#scanNumber())
      this.#fail(start, `bad number syntax: ${JSON.stringify(this.#source.slice(start, this.#pos))}`);
    const sign = this.#source[this.#pos];
    if (sign === '+' || sign === '-') {
      if (!this.#scanNumber() || this.#source[this.#pos - 1] !== 'i') {
        this.#fail(start, `bad number syntax: ${JSON.stringify(this.#source.slice(start, this.#pos))}`);
      }
      return this.#token('complex', start);
    }
    return this.#token('number', start);
  }
}

function trimEndSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1])) end--;
  return text.slice(0, end);
}
