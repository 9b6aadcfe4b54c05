/**
 * Go's fmt.Sprint, fmt.Sprintln and fmt.Sprintf, as the template builtins print, println and printf
 * use them. printf supports the verbs %v %s %q %d %x %X %t %f and %%, the flags `-`, `+` and `0`, and
 * decimal width and precision. It writes Go's in-band errors (`%!d(string=a)`, `%!d(MISSING)`,
 * `%!(EXTRA int=1)`, `%!(NOVERB)`), and rejects the rest of fmt's directives as unsupported.
 */
import { EvaluationFailure } from './errors.js';
import { checkSize, DEFAULT_SPEC, type FormatLimits, type FormatSpec, formatValue } from './format-value.js';
import { kindOf, typeName } from './values.js';

/** Flags and precision that each supported verb accepts here; a width is accepted by every verb. */
const VERB_OPTIONS: ReadonlyMap<string, { flags: string; precision: boolean }> = new Map([
  ['v', { flags: '-', precision: false }],
  ['s', { flags: '-', precision: true }],
  ['q', { flags: '-', precision: true }],
  ['d', { flags: '-+0', precision: false }],
  ['x', { flags: '-0', precision: false }],
  ['X', { flags: '-0', precision: false }],
  ['t', { flags: '-', precision: false }],
  ['f', { flags: '-+0', precision: true }],
]);

/** Verbs that Go's fmt implements and this engine does not. */
const OTHER_GO_VERBS = new Set(['b', 'c', 'e', 'E', 'F', 'g', 'G', 'o', 'O', 'p', 'T', 'U']);

/** Go's fmt refuses widths and precisions above a million. */
const MAX_WIDTH = 1_000_000;

function unsupported(message: string): EvaluationFailure {
  return new EvaluationFailure('UNSUPPORTED', message);
}

function isStringOperand(value: unknown): boolean {
  return kindOf(value) === 'string';
}

/** fmt.Sprint: operands in their default format, with a space between two operands that are not strings. */
export function sprint(args: readonly unknown[], limits: FormatLimits): string {
  let text = '';
  args.forEach((arg, i) => {
    if (i > 0 && !isStringOperand(arg) && !isStringOperand(args[i - 1])) text += ' ';
    text += formatValue(arg, DEFAULT_SPEC, limits);
    checkSize(text, limits);
  });
  return text;
}

/** fmt.Sprintln: operands in their default format separated by spaces, then a newline. */
export function sprintln(args: readonly unknown[], limits: FormatLimits): string {
  let text = '';
  args.forEach((arg, i) => {
    if (i > 0) text += ' ';
    text += formatValue(arg, DEFAULT_SPEC, limits);
    checkSize(text, limits);
  });
  return checkSize(`${text}\n`, limits);
}

/** Reads decimal digits at i; null when there are none. */
function readNumber(format: string, i: number): { value: number | null; next: number } {
  let next = i;
  while (next < format.length && format[next]! >= '0' && format[next]! <= '9') next++;
  if (next === i) return { value: null, next };
  const value = Number(format.slice(i, next));
  if (value > MAX_WIDTH)
    throw unsupported(
      `printf width or precision ${format.slice(i, next)} is above Go's limit of ${MAX_WIDTH}`,
    );
  return { value, next };
}

interface Directive {
  readonly spec: FormatSpec;
  /** `#` or ` ` when the directive has one of these flags, which are not supported; else null. */
  readonly unsupportedFlag: string | null;
  /** Offset just past the verb. */
  readonly next: number;
}

/** Parses the directive whose `%` is just before offset i; null for a `%` at the end (NOVERB). */
function parseDirective(format: string, i: number): Directive | null {
  let minus = false;
  let plus = false;
  let zero = false;
  let unsupportedFlag: string | null = null;
  for (; i < format.length; i++) {
    const char = format[i];
    if (char === '-') {
      minus = true;
      zero = false;
    } else if (char === '+') {
      plus = true;
    } else if (char === '0') {
      zero = !minus;
    } else if (char === '#' || char === ' ') {
      unsupportedFlag = char;
    } else {
      break;
    }
  }

  if (format[i] === '[') throw unsupported('printf explicit argument indexes ([n]) are not supported');
  if (format[i] === '*') throw unsupported('printf widths taken from arguments (*) are not supported');
  const width = readNumber(format, i);
  i = width.next;

  let precision: number | null = null;
  if (format[i] === '.') {
    i++;
    if (format[i] === '[' || format[i] === '*')
      throw unsupported('printf precisions taken from arguments are not supported');
    const read = readNumber(format, i);
    precision = read.value ?? 0;
    i = read.next;
  }

  if (i >= format.length) return null;
  const verb = String.fromCodePoint(format.codePointAt(i)!);
  const spec: FormatSpec = { verb, minus, plus, zero, width: width.value, precision };
  return { spec, unsupportedFlag, next: i + verb.length };
}

function checkVerbOptions(spec: FormatSpec): void {
  const options = VERB_OPTIONS.get(spec.verb);
  if (!options) return;
  for (const [flag, set] of [
    ['-', spec.minus],
    ['+', spec.plus],
    ['0', spec.zero],
  ] as const) {
    if (set && !options.flags.includes(flag))
      throw unsupported(`printf flag ${flag} with %${spec.verb} is not supported`);
  }
  if (spec.precision !== null && !options.precision)
    throw unsupported(`printf precision with %${spec.verb} is not supported`);
}

function formatOperand(arg: unknown, spec: FormatSpec, limits: FormatLimits): string {
  if (OTHER_GO_VERBS.has(spec.verb)) throw unsupported(`printf verb %${spec.verb} is not supported`);
  if (!VERB_OPTIONS.has(spec.verb)) {
    // A verb that Go does not know prints as a bad verb, as in %!z(int=1).
    if (spec.minus || spec.plus || spec.zero || spec.width !== null || spec.precision !== null) {
      throw unsupported(`printf verb %${spec.verb} with flags, width or precision is not supported`);
    }
    const kind = kindOf(arg);
    if (kind === 'slice' || kind === 'map')
      throw unsupported(`printf verb %${spec.verb} for a ${typeName(arg)} is not supported`);
    if (kind === 'nil' || kind === 'invalid') return `%!${spec.verb}(<nil>)`;
    return `%!${spec.verb}(${typeName(arg)}=${formatValue(arg, DEFAULT_SPEC, limits)})`;
  }
  checkVerbOptions(spec);
  for (const size of [spec.width, spec.precision]) {
    if (size !== null && size > limits.maxBytes) {
      throw new EvaluationFailure(
        'OUTPUT_LIMIT',
        `printf width or precision ${size} is larger than the limit of ${limits.maxBytes} bytes`,
      );
    }
  }
  return formatValue(arg, spec, limits);
}

/** fmt.Sprintf for the directives described at the top of this file. */
export function sprintf(format: string, args: readonly unknown[], limits: FormatLimits): string {
  let text = '';
  let argIndex = 0;
  let i = 0;
  while (i < format.length) {
    const percent = format.indexOf('%', i);
    if (percent < 0) {
      text += format.slice(i);
      break;
    }
    text += format.slice(i, percent);
    const directive = parseDirective(format, percent + 1);
    if (!directive) {
      text += '%!(NOVERB)';
      break;
    }
    i = directive.next;
    const { spec } = directive;
    if (spec.verb === '%') {
      // Go writes a percent sign and ignores flags, width and precision here.
      text += '%';
    } else if (argIndex >= args.length) {
      text += `%!${spec.verb}(MISSING)`;
    } else {
      if (directive.unsupportedFlag)
        throw unsupported(`printf flag ${JSON.stringify(directive.unsupportedFlag)} is not supported`);
      text += formatOperand(args[argIndex], spec, limits);
      argIndex++;
    }
    checkSize(text, limits);
  }
  if (argIndex < args.length) {
    const extras = args.slice(argIndex).map((arg) => {
      const kind = kindOf(arg);
      if (kind === 'nil' || kind === 'invalid') return '<nil>';
      return `${typeName(arg)}=${formatValue(arg, DEFAULT_SPEC, limits)}`;
    });
    text += `%!(EXTRA ${extras.join(', ')})`;
  }
  return checkSize(text, limits);
}
