/** Quoting as Go's strconv.Quote and strconv.QuoteRune do it, for `%q` and for messages. */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const NAMED_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x07, '\\a'],
  [0x08, '\\b'],
  [0x0c, '\\f'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
  [0x0b, '\\v'],
]);

const REPLACEMENT_CHARACTER = 0xfffd;

function isSurrogate(codePoint: number): boolean {
  return codePoint >= 0xd800 && codePoint <= 0xdfff;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/**
 * Escapes one code point the way Go does inside a quoted literal. Printable characters stay as they
 * are, where printable means Unicode categories L, M, N, P, S and the ASCII space (unicode.IsPrint).
 */
function escapeCodePoint(codePoint: number, quote: string): string {
  // A lone surrogate reaches Go as the UTF-8 of U+FFFD, which is printable.
  if (isSurrogate(codePoint)) return String.fromCodePoint(REPLACEMENT_CHARACTER);
  const char = String.fromCodePoint(codePoint);
  if (char === quote || char === '\\') return `\\${char}`;
  if (PRINTABLE.test(char)) return char;
  const named = NAMED_ESCAPES.get(codePoint);
  if (named) return named;
  if (codePoint < 0x20 || codePoint === 0x7f) return `\\x${hex(codePoint, 2)}`;
  if (codePoint < 0x10000) return `\\u${hex(codePoint, 4)}`;
  return `\\U${hex(codePoint, 8)}`;
}

/** Quotes text as a double-quoted Go string literal, as strconv.Quote does. */
export function quoteGoString(text: string): string {
  let quoted = '"';
  for (const char of text) quoted += escapeCodePoint(char.codePointAt(0)!, '"');
  return `${quoted}"`;
}

/**
 * Quotes a code point as a single-quoted Go character literal, as strconv.QuoteRune does. Values that are not Unicode
 * code points (negative, above U+10FFFF or surrogates) become U+FFFD, as in Go.
 */
export function quoteGoRune(value: number): string {
  const valid = Number.isInteger(value) && value >= 0 && value <= 0x10ffff && !isSurrogate(value);
  return `'${escapeCodePoint(valid ? value : REPLACEMENT_CHARACTER, "'")}'`;
}
