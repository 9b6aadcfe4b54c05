/**
 * Orders strings by Unicode code point, which is the byte order of their UTF-8 form and so the
 * order in which Go compares strings. Plain `<` compares UTF-16 code units instead, and that order
 * differs for characters above U+FFFF against those from U+E000 to U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800 to U+DFFF) encode code points above U+FFFF, so they rank above U+FFFF.
    return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Orders ASCII strings, such as IDs that match ID_PATTERN, for which code-unit order is byte order. */
export function compareAscii(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}
