import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  parseTemplate,
  renderTemplate,
  type TemplateFunctions,
  TemplateRenderError,
  TemplateSyntaxError,
} from '../../src/template/index.js';

/** Parses, and returns the template or null; any error other than TemplateSyntaxError fails the property. */
function parseOrNull(source: string): ReturnType<typeof parseTemplate> | null {
  try {
    return parseTemplate(source, 'fuzz');
  } catch (error) {
    if (error instanceof TemplateSyntaxError) return null;
    throw error;
  }
}

/** Fragments of the template language, so that random joins often parse and exercise the executor. */
const fragments = fc.constantFrom(
  '{{',
  '}}',
  '{{- ',
  ' -}}',
  '{{/*',
  '*/}}',
  ' ',
  '\n',
  '.',
  '.a',
  '.b.c',
  '$',
  '$x',
  '$i',
  ' := ',
  ' = ',
  ',',
  '|',
  '(',
  ')',
  'if ',
  'else ',
  'end',
  'range ',
  'with ',
  'break',
  'continue',
  'nil',
  'true',
  '"s"',
  '`r`',
  '"\\u00e9"',
  '1',
  '-2',
  '1.5',
  '0x1F',
  'len ',
  'index ',
  'print ',
  'printf "%d %s %v %q" ',
  'eq ',
  'lt ',
  'and ',
  'or ',
  'not ',
  'fn ',
  'text',
  '}',
  '-',
);

const data = { a: [1, 'two', null, { c: 3 }], b: { c: 'x', d: [] }, n: null, f: 2.5 };

const functions: TemplateFunctions = {
  fn: async (...args: unknown[]) => {
    await Promise.resolve();
    if (args.length > 2) throw new Error('too many');
    return args[0] ?? { c: 'from fn' };
  },
};

describe('parser fuzzing', () => {
  test('arbitrary ASCII never throws anything but TemplateSyntaxError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (source) => {
        parseOrNull(source);
      }),
      { numRuns: 3000 },
    );
  });

  test('arbitrary Unicode never throws anything but TemplateSyntaxError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (source) => {
        parseOrNull(source);
        parseOrNull(`{{ ${source} }}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('arbitrary UTF-16 units, lone surrogates included, never throw anything else', () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 200 }), (source) => {
        parseOrNull(source);
        parseOrNull(`{{ ${source} }}`);
        parseOrNull(`{{ "${source}" }}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('template fragments never throw anything but TemplateSyntaxError', () => {
    fc.assert(
      fc.property(fc.array(fragments, { maxLength: 40 }), (parts) => {
        parseOrNull(parts.join(''));
      }),
      { numRuns: 3000 },
    );
  });
});

/** Templates built from the grammar, mostly valid, nesting blocks and parenthesized pipelines. */
const { template: generatedTemplate } = fc.letrec<{
  operand: string;
  command: string;
  pipeline: string;
  node: string;
  template: string;
}>((tie) => ({
  operand: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      '.',
      '.a',
      '.b.c',
      '.n',
      '.f',
      '$',
      '"s"',
      '1',
      '-1',
      '2.5',
      'true',
      'nil',
      '$v',
      '$i',
      'fn',
    ),
    tie('pipeline').map((pipeline) => `(${pipeline})`),
  ),
  command: fc.oneof(
    tie('operand'),
    fc
      .tuple(
        fc.constantFrom(
          'len',
          'index',
          'print',
          'printf "%v-%d-%s"',
          'eq',
          'ne',
          'lt',
          'and',
          'or',
          'not',
          'fn',
        ),
        fc.array(tie('operand'), { maxLength: 3 }),
      )
      .map(([name, args]) => [name, ...args].join(' ')),
  ),
  pipeline: fc
    .tuple(
      tie('command'),
      fc.array(fc.constantFrom('len', 'print', 'not', 'fn', 'printf "%q"'), { maxLength: 2 }),
    )
    .map(([first, rest]) => [first, ...rest].join(' | ')),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('text', ' ', '\n'),
    tie('pipeline').map((pipeline) => `{{ ${pipeline} }}`),
    fc
      .tuple(tie('pipeline'), tie('template'), tie('template'))
      .map(([p, a, b]) => `{{ if ${p} }}${a}{{ else }}${b}{{ end }}`),
    fc.tuple(tie('pipeline'), tie('template')).map(([p, a]) => `{{ with ${p} }}${a}{{ end }}`),
    fc
      .tuple(tie('pipeline'), tie('template'), fc.constantFrom('', '{{ break }}', '{{ continue }}'))
      .map(([p, a, control]) => `{{ range $i, $v := ${p} }}${a}${control}{{ else }}empty{{ end }}`),
  ),
  template: fc.array(tie('node'), { maxLength: 4 }).map((nodes) => nodes.join('')),
}));

describe('executor fuzzing', () => {
  test('generated templates render or fail with TemplateRenderError', async () => {
    let rendered = 0;
    await fc.assert(
      fc.asyncProperty(generatedTemplate, async (source) => {
        const parsed = parseOrNull(source);
        if (!parsed) return;
        try {
          await renderTemplate(parsed, data, functions, { maxOutputBytes: 10_000, maxRangeIterations: 1000 });
          rendered++;
        } catch (error) {
          if (!(error instanceof TemplateRenderError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
    // The grammar must reach the executor, or the property proves nothing.
    assert.ok(rendered > 200, `only ${rendered} generated templates rendered`);
  });

  test('renders of parsed fragments fail only with TemplateRenderError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fragments, { maxLength: 40 }), async (parts) => {
        const parsed = parseOrNull(parts.join(''));
        if (!parsed) return;
        try {
          const output = await renderTemplate(parsed, data, functions, {
            maxOutputBytes: 10_000,
            maxRangeIterations: 1000,
          });
          assert.equal(typeof output, 'string');
        } catch (error) {
          if (!(error instanceof TemplateRenderError)) throw error;
          assert.ok(error.line >= 1);
          assert.ok(error.column >= 1);
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('syntax error positions lie inside the source', () => {
    fc.assert(
      fc.property(fc.array(fragments, { maxLength: 30 }), (parts) => {
        const source = parts.join('');
        try {
          parseTemplate(source, 'fuzz');
        } catch (error) {
          if (!(error instanceof TemplateSyntaxError)) throw error;
          const lines = source.split('\n');
          assert.ok(error.line >= 1);
          assert.ok(error.line <= lines.length);
          assert.ok(error.column >= 1);
          assert.ok(error.column <= [...lines[error.line - 1]!].length + 1);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
