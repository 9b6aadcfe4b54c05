/**
 * Decoding of number and string literals as Go's strconv does it for templates, limited to the forms
 * this engine represents exactly.
 */

/** A float64 value. Integers are plain numbers; this wrapper keeps `1.0` a float, as Go does. */
export class GoFloat {
  readonly value: number;

  constructor(value: number) {
    this.value = value;
  }
}

export type LiteralResult<T> = { ok: true; value: T } | { ok: false; unsupported: boolean; reason: string };

const INTEGER = /^[+-]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;
const DECIMAL_FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function illegal(text: string): LiteralResult<never> {
  return { ok: false, unsupported: false, reason: `illegal number syntax: ${JSON.stringify(text)}` };
}

function unsupported(reason: string): LiteralResult<never> {
  return { ok: false, unsupported: true, reason };
}

/**
 * Decodes a number token. Integers become numbers; anything with a `.` or an exponent becomes a
 * GoFloat, which is how Go types an untyped constant in a template.
 */
export function parseNumberLiteral(text: string): LiteralResult<number | GoFloat> {
  if (text.includes('_'))
    return unsupported(`digit separators in number ${JSON.stringify(text)} are not supported`);
  if (text.endsWith('i')) return unsupported(`imaginary number ${JSON.stringify(text)} is not supported`);
  if (/^[+-]?0[xX]/.test(text) && /[.pP]/.test(text)) {
    return unsupported(`hexadecimal floating-point number ${JSON.stringify(text)} is not supported`);
  }
  if (INTEGER.test(text)) {
    const negative = text.startsWith('-');
    let digits = text.replace(/^[+-]/, '');
    // BigInt reads 0x, 0o and 0b prefixes, but a bare leading 0 means octal only in Go.
    if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`;
    const magnitude = BigInt(digits);
    const value = negative ? -magnitude : magnitude;
    if (value < INT64_MIN || value > INT64_MAX) {
      return { ok: false, unsupported: false, reason: `integer overflow: ${JSON.stringify(text)}` };
    }
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) {
      return unsupported(`integer ${text} is outside ±(2^53-1), the range this engine represents exactly`);
    }
    return { ok: true, value: Number(value) };
  }
  if (DECIMAL_FLOAT.test(text) && /[.eE]/.test(text)) {
    const value = Number(text);
    if (!Number.isFinite(value)) return illegal(text);
    return { ok: true, value: new GoFloat(value) };
  }
  return illegal(text);
}

const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['a', 0x07],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['v', 0x0b],
  ['\\', 0x5c],
  ['"', 0x22],
]);

const HEX = /^[0-9a-fA-F]+$/;
/** Hexadecimal digits that follow each numeric escape. */
const ESCAPE_DIGITS = { x: 2, u: 4, U: 8 } as const;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function pushUtf8(bytes: number[], text: string): void {
  for (const byte of Buffer.from(text, 'utf8')) bytes.push(byte);
}

/**
 * Decodes a double-quoted literal (quotes included) with Go's escapes: \a \b \f \n \r \t \v \\ \",
 * \xHH and \OOO for single bytes, \uHHHH and \UHHHHHHHH for code points. The bytes must form valid
 * UTF-8, because a JavaScript string cannot hold anything else.
 */
export function unquoteString(quoted: string): LiteralResult<string> {
  const body = quoted.slice(1, -1);
  if (!body.includes('\\')) return { ok: true, value: body };
  const bytes: number[] = [];
  let i = 0;
  while (i < body.length) {
    const backslash = body.indexOf('\\', i);
    if (backslash < 0) {
      pushUtf8(bytes, body.slice(i));
      break;
    }
    pushUtf8(bytes, body.slice(i, backslash));
    const kind = body[backslash + 1] ?? '';
    i = backslash + 2;
    const simple = SIMPLE_ESCAPES.get(kind);
    if (simple !== undefined) {
      bytes.push(simple);
      continue;
    }
    if (kind === 'x' || kind === 'u' || kind === 'U') {
      const length = ESCAPE_DIGITS[kind];
      const hex = body.slice(i, i + length);
      if (hex.length !== length || !HEX.test(hex)) {
        return { ok: false, unsupported: false, reason: `invalid escape \\${kind}${hex} in string literal` };
      }
      i += length;
      const value = Number.parseInt(hex, 16);
      if (kind === 'x') {
        bytes.push(value);
      } else if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
        return {
          ok: false,
          unsupported: false,
          reason: `escape \\${kind}${hex} is not a valid Unicode code point`,
        };
      } else {
        pushUtf8(bytes, String.fromCodePoint(value));
      }
      continue;
    }
    if (kind >= '0' && kind <= '7') {
      const octal = body.slice(backslash + 1, backslash + 4);
      if (!/^[0-7]{3}$/.test(octal) || Number.parseInt(octal, 8) > 255) {
        return { ok: false, unsupported: false, reason: `invalid octal escape \\${octal} in string literal` };
      }
      bytes.push(Number.parseInt(octal, 8));
      i = backslash + 4;
      continue;
    }
    return { ok: false, unsupported: false, reason: `invalid escape \\${kind} in string literal` };
  }
  try {
    return { ok: true, value: strictUtf8.decode(Uint8Array.from(bytes)) };
  } catch {
    return unsupported('string literal with bytes that are not valid UTF-8 is not supported');
  }
}

/** Decodes a back-quoted literal: its text as written, minus carriage returns, as Go does. */
export function unquoteRawString(quoted: string): string {
  return quoted.slice(1, -1).replaceAll('\r', '');
}
