/**
 * Finds where a text stops being valid JSON (RFC 8259), as an offset in UTF-16 code units from 0,
 * the unit of JavaScript string indexes. Returns `text.length` for a text that ends too early, and
 * null for valid JSON.
 *
 * JSON.parse reports a position only for some errors. For an unexpected token, Node 20 quotes
 * the text around it instead, and that text may be a secret. This scan gives a position for
 * every error without quoting anything. It keeps an explicit stack, so deep nesting cannot
 * overflow the call stack.
 */
export function jsonErrorOffset(text: string): number | null {
  // Open containers, innermost last. Nesting can never be deeper than the text is long.
  const containers = new Uint8Array(text.length);
  let depth = 0;
  let expect: Expect = 'value';
  let i = 0;

  for (;;) {
    i = skipWhitespace(text, i);
    if (i >= text.length) return expect === 'end' ? null : text.length;
    const char = text[i];

    switch (expect) {
      case 'value-or-close':
      case 'value': {
        if (expect === 'value-or-close' && char === ']') {
          depth--;
          i++;
          expect = afterValue(depth);
        } else if (char === '{') {
          containers[depth++] = OBJECT;
          i++;
          expect = 'key-or-close';
        } else if (char === '[') {
          containers[depth++] = ARRAY;
          i++;
          expect = 'value-or-close';
        } else {
          const end = scanScalar(text, i);
          if (end.error) return end.offset;
          i = end.offset;
          expect = afterValue(depth);
        }
        break;
      }
      case 'key-or-close':
      case 'key': {
        if (expect === 'key-or-close' && char === '}') {
          depth--;
          i++;
          expect = afterValue(depth);
          break;
        }
        if (char !== '"') return i;
        const end = scanString(text, i);
        if (end.error) return end.offset;
        i = end.offset;
        expect = 'colon';
        break;
      }
      case 'colon': {
        if (char !== ':') return i;
        i++;
        expect = 'value';
        break;
      }
      case 'comma-or-close': {
        const container = containers[depth - 1];
        if (char === ',') {
          i++;
          expect = container === OBJECT ? 'key' : 'value';
        } else if ((char === '}' && container === OBJECT) || (char === ']' && container === ARRAY)) {
          depth--;
          i++;
          expect = afterValue(depth);
        } else {
          return i;
        }
        break;
      }
      case 'end':
        return i;
    }
  }
}

/** The kind of token that the scan accepts next. */
type Expect = 'value' | 'value-or-close' | 'key' | 'key-or-close' | 'colon' | 'comma-or-close' | 'end';

/** The offset after a scanned token, or the offset of its first invalid character when `error` is set. */
interface ScanEnd {
  readonly offset: number;
  readonly error: boolean;
}

const ARRAY = 1;
const OBJECT = 2;
const LITERALS = ['true', 'false', 'null'] as const;
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

function afterValue(depth: number): Expect {
  return depth === 0 ? 'end' : 'comma-or-close';
}

function skipWhitespace(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const char = text[i];
    if (char !== ' ' && char !== '\t' && char !== '\n' && char !== '\r') break;
    i++;
  }
  return i;
}

function scanScalar(text: string, start: number): ScanEnd {
  const char = text[start]!;
  if (char === '"') return scanString(text, start);
  if (char === '-' || isDigit(char)) return scanNumber(text, start);
  const literal = LITERALS.find((word) => word[0] === char);
  if (literal === undefined) return { offset: start, error: true };
  for (let k = 1; k < literal.length; k++) {
    if (text[start + k] !== literal[k]) return { offset: Math.min(start + k, text.length), error: true };
  }
  return { offset: start + literal.length, error: false };
}

function scanString(text: string, start: number): ScanEnd {
  let i = start + 1;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return { offset: i + 1, error: false };
    // Control characters must be escaped inside strings.
    if (code < 0x20) return { offset: i, error: true };
    if (code !== 0x5c) {
      i++;
      continue;
    }
    const escaped = text[i + 1];
    if (escaped === undefined) return { offset: text.length, error: true };
    if (SIMPLE_ESCAPES.has(escaped)) {
      i += 2;
      continue;
    }
    if (escaped !== 'u') return { offset: i + 1, error: true };
    for (let k = i + 2; k < i + 6; k++) {
      if (k >= text.length) return { offset: text.length, error: true };
      if (!isHexDigit(text[k]!)) return { offset: k, error: true };
    }
    i += 6;
  }
  return { offset: text.length, error: true };
}

/** Scans `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. The caller checks the character after it. */
function scanNumber(text: string, start: number): ScanEnd {
  let i = start;
  if (text[i] === '-') i++;
  if (text[i] === '0') i++;
  else if (!digitAt(text, i)) return { offset: Math.min(i, text.length), error: true };
  else i = skipDigits(text, i);

  if (text[i] === '.') {
    i++;
    if (!digitAt(text, i)) return { offset: Math.min(i, text.length), error: true };
    i = skipDigits(text, i);
  }
  if (text[i] === 'e' || text[i] === 'E') {
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    if (!digitAt(text, i)) return { offset: Math.min(i, text.length), error: true };
    i = skipDigits(text, i);
  }
  return { offset: i, error: false };
}

function skipDigits(text: string, start: number): number {
  let i = start;
  while (digitAt(text, i)) i++;
  return i;
}

function digitAt(text: string, i: number): boolean {
  return i < text.length && isDigit(text[i]!);
}

function isDigit(char: string): boolean {
  return char >= '0' && char <= '9';
}

function isHexDigit(char: string): boolean {
  return isDigit(char) || (char >= 'a' && char <= 'f') || (char >= 'A' && char <= 'F');
}
