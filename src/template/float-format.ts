/**
 * Float64 formatting as Go's strconv does it: the shortest `%v` form and the exactly rounded `%f`
 * form. JavaScript's own toString and toFixed differ from Go in where they switch to exponents and
 * in how they round ties.
 */

function isNegative(value: number): boolean {
  return value < 0 || Object.is(value, -0);
}

function nonFinite(value: number): string | null {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return null;
}

/**
 * Go's `%v` for a float64 (strconv 'g' with the shortest precision): the shortest digits that read
 * back as the same number, in exponent form when the decimal exponent is below -4 or at least 6. In
 * shortest mode Go compares the exponent with a fixed 6, where JavaScript's toString uses 21.
 */
export function formatFloatShortest(value: number): string {
  const special = nonFinite(value);
  if (special) return special;
  const sign = isNegative(value) ? '-' : '';
  if (value === 0) return `${sign}0`;
  // toExponential without an argument gives the shortest round-trip digits, as Go's shortest mode does.
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const exponentSign = exponent < 0 ? '-' : '+';
    return `${sign}${digits[0]}${fraction}e${exponentSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const pointAt = exponent + 1;
  if (pointAt <= 0) return `${sign}0.${'0'.repeat(-pointAt)}${digits}`;
  if (pointAt >= digits.length) return `${sign}${digits}${'0'.repeat(pointAt - digits.length)}`;
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}

/** Splits a finite float64 into an integer mantissa and an exponent, exactly: |value| = mantissa × 2^exponent. */
function decompose(value: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const bits = view.getBigUint64(0);
  const biasedExponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biasedExponent === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biasedExponent - 1075 };
}

/**
 * Go's `%.Nf` digits for a float64, without sign or padding: the exact binary value rounded to N
 * decimals, ties to even, as strconv.FormatFloat does.
 */
export function formatFloatFixedDigits(value: number, precision: number): string {
  const special = nonFinite(value);
  if (special) return special.replace('+', '').replace('-', '');
  const { mantissa, exponent } = decompose(value);
  const scale = 10n ** BigInt(precision);
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale;
  } else {
    const numerator = mantissa * scale;
    const denominator = 1n << BigInt(-exponent);
    scaled = numerator / denominator;
    const twiceRemainder = (numerator % denominator) * 2n;
    if (twiceRemainder > denominator || (twiceRemainder === denominator && scaled % 2n === 1n)) scaled += 1n;
  }
  const text = scaled.toString().padStart(precision + 1, '0');
  if (precision === 0) return text;
  return `${text.slice(0, -precision)}.${text.slice(-precision)}`;
}

export function isNegativeFloat(value: number): boolean {
  return !Number.isNaN(value) && isNegative(value);
}
