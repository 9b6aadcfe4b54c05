/**
 * Formatting of one value for one fmt verb, as Go's fmt package does it. `%v` is the default format,
 * which actions and `print` use. `%s %q %d %x %X %t %f` are the other verbs that printf supports.
 *
 * Arrays print as `[a b c]` and maps as `map[k1:v1 k2:v2]` with sorted keys. Each element is formatted
 * with the same verb, and a nil inside them prints `<nil>`. Flags, width and precision on an array or
 * map are rejected, because Go applies them to each element in ways this engine does not reproduce.
 */
import { EvaluationFailure } from './errors.js';
import { formatFloatFixedDigits, formatFloatShortest, isNegativeFloat } from './float-format.js';
import { quoteGoRune, quoteGoString } from './quote.js';
import { type GoMap, kindOf, mapKeys, numberOf, typeName, unsupportedValue } from './values.js';

/** A parsed `%[flags][width][.precision]verb` directive. */
export interface FormatSpec {
  readonly verb: string;
  readonly minus: boolean;
  readonly plus: boolean;
  readonly zero: boolean;
  readonly width: number | null;
  readonly precision: number | null;
}

export const DEFAULT_SPEC: FormatSpec = {
  verb: 'v',
  minus: false,
  plus: false,
  zero: false,
  width: null,
  precision: null,
};

/** Caps that keep formatting of large or cyclic data bounded. */
export interface FormatLimits {
  /** Maximum length of a string that a formatting call produces, in UTF-8 bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of arrays and maps that formatting descends into. */
  readonly maxDepth: number;
}

function hasModifiers(spec: FormatSpec): boolean {
  return spec.minus || spec.plus || spec.zero || spec.width !== null || spec.precision !== null;
}

function sizeLimitFailure(limits: FormatLimits): EvaluationFailure {
  return new EvaluationFailure(
    'OUTPUT_LIMIT',
    `a formatted value is larger than the limit of ${limits.maxBytes} bytes`,
  );
}

/** Returns the text, or throws OUTPUT_LIMIT when its UTF-8 form is longer than the limit. */
export function checkSize(text: string, limits: FormatLimits): string {
  // UTF-16 length never exceeds the UTF-8 length, so the cheap test only rejects true excess.
  if (text.length > limits.maxBytes || Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    throw sizeLimitFailure(limits);
  }
  return text;
}

function pad(text: string, spec: FormatSpec): string {
  if (spec.width === null) return text;
  const missing = spec.width - [...text].length;
  if (missing <= 0) return text;
  return spec.minus ? text + ' '.repeat(missing) : ' '.repeat(missing) + text;
}

/** Sign, then zero padding when asked for, then digits; the way fmt lays out numbers. */
function padNumber(sign: string, digits: string, spec: FormatSpec): string {
  if (spec.zero && !spec.minus && spec.width !== null) {
    return sign + digits.padStart(spec.width - sign.length, '0');
  }
  return pad(sign + digits, spec);
}

function truncate(text: string, precision: number | null): string {
  if (precision === null) return text;
  const chars = [...text];
  return chars.length > precision ? chars.slice(0, precision).join('') : text;
}

function badVerb(value: unknown, spec: FormatSpec, limits: FormatLimits): string {
  if (hasModifiers(spec)) {
    throw new EvaluationFailure(
      'UNSUPPORTED',
      `printf verb %${spec.verb} with flags, width or precision for a value of type ${typeName(value)} is not supported`,
    );
  }
  const kind = kindOf(value);
  if (kind === 'invalid' || kind === 'nil') return `%!${spec.verb}(<nil>)`;
  return `%!${spec.verb}(${typeName(value)}=${formatValue(value, DEFAULT_SPEC, limits)})`;
}

function integerSign(value: number, spec: FormatSpec): string {
  if (value < 0) return '-';
  return spec.plus ? '+' : '';
}

function formatInteger(value: number, spec: FormatSpec, limits: FormatLimits): string {
  switch (spec.verb) {
    case 'v':
    case 'd':
      return padNumber(integerSign(value, spec), String(Math.abs(value)), spec);
    case 'x':
    case 'X': {
      const digits = Math.abs(value).toString(16);
      return padNumber(value < 0 ? '-' : '', spec.verb === 'X' ? digits.toUpperCase() : digits, spec);
    }
    case 'q':
      if (spec.precision !== null) {
        throw new EvaluationFailure('UNSUPPORTED', 'printf precision with %q for an int is not supported');
      }
      return pad(quoteGoRune(value), spec);
    default:
      return badVerb(value, spec, limits);
  }
}

function formatFloat(value: number, spec: FormatSpec, limits: FormatLimits): string {
  switch (spec.verb) {
    case 'v':
      return pad(formatFloatShortest(value), spec);
    case 'f': {
      const digits = formatFloatFixedDigits(value, spec.precision ?? 6);
      const sign = isNegativeFloat(value) ? '-' : spec.plus || !Number.isFinite(value) ? '+' : '';
      if (Number.isNaN(value)) return pad(spec.plus ? '+NaN' : 'NaN', spec);
      // Go pads infinities with spaces even under the 0 flag.
      if (!Number.isFinite(value)) return pad(sign + digits, spec);
      return padNumber(sign, digits, spec);
    }
    case 'x':
    case 'X':
      throw new EvaluationFailure('UNSUPPORTED', `printf verb %${spec.verb} for a float64 is not supported`);
    default:
      return badVerb(value, spec, limits);
  }
}

function formatString(value: string, spec: FormatSpec, limits: FormatLimits): string {
  switch (spec.verb) {
    case 'v':
    case 's':
      return pad(truncate(value, spec.precision), spec);
    case 'q':
      return pad(quoteGoString(truncate(value, spec.precision)), spec);
    case 'x':
    case 'X': {
      if (spec.zero)
        throw new EvaluationFailure(
          'UNSUPPORTED',
          `printf flag 0 with %${spec.verb} for a string is not supported`,
        );
      const digits = Buffer.from(value, 'utf8').toString('hex');
      return pad(spec.verb === 'X' ? digits.toUpperCase() : digits, spec);
    }
    default:
      return badVerb(value, spec, limits);
  }
}

function formatComposite(value: unknown, spec: FormatSpec, limits: FormatLimits, depth: number): string {
  if (hasModifiers(spec)) {
    throw new EvaluationFailure(
      'UNSUPPORTED',
      `printf flags, width or precision for a value of type ${typeName(value)} are not supported`,
    );
  }
  if (spec.verb === 'x' || spec.verb === 'X') {
    throw new EvaluationFailure(
      'UNSUPPORTED',
      `printf verb %${spec.verb} for a value of type ${typeName(value)} is not supported`,
    );
  }
  if (depth >= limits.maxDepth) {
    throw new EvaluationFailure(
      'DEPTH_LIMIT',
      `a printed value nests deeper than the limit of ${limits.maxDepth}`,
    );
  }
  const parts: string[] = [];
  let length = 0;
  const add = (part: string): void => {
    length += part.length + 1;
    if (length > limits.maxBytes) throw sizeLimitFailure(limits);
    parts.push(part);
  };
  if (Array.isArray(value)) {
    for (const element of value) add(formatNested(element, spec, limits, depth + 1));
    return `[${parts.join(' ')}]`;
  }
  const map = value as GoMap;
  for (const key of mapKeys(map)) {
    add(`${formatNested(key, spec, limits, depth + 1)}:${formatNested(map[key], spec, limits, depth + 1)}`);
  }
  return `map[${parts.join(' ')}]`;
}

/** Formats an element inside an array or map, where a nil prints `<nil>` whatever the verb. */
function formatNested(value: unknown, spec: FormatSpec, limits: FormatLimits, depth: number): string {
  const kind = kindOf(value);
  if (kind === 'nil' || kind === 'invalid') return '<nil>';
  return formatAt(value, spec, limits, depth);
}

function formatAt(value: unknown, spec: FormatSpec, limits: FormatLimits, depth: number): string {
  switch (kindOf(value)) {
    case 'invalid':
    case 'nil':
      return spec.verb === 'v' ? pad('<nil>', spec) : badVerb(value, spec, limits);
    case 'bool':
      if (spec.verb === 'v' || spec.verb === 't') return pad(String(value), spec);
      return badVerb(value, spec, limits);
    case 'int':
      return formatInteger(value as number, spec, limits);
    case 'float64':
      return formatFloat(numberOf(value), spec, limits);
    case 'string':
      return formatString(value as string, spec, limits);
    case 'slice':
    case 'map':
      return formatComposite(value, spec, limits, depth);
    case 'unsupported':
      throw unsupportedValue(value);
  }
}

/** Formats one operand as Go's fmt does for the verb in spec; a nil operand is `<nil>` for `%v`. */
export function formatValue(value: unknown, spec: FormatSpec, limits: FormatLimits): string {
  return formatAt(value, spec, limits, 0);
}
