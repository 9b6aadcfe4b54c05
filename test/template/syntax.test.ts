import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate } from '../../src/template/index.js';
import { render, syntaxError } from './helpers.js';

describe('trim markers and comments', () => {
  const cases: [string, string][] = [
    ['plain text', 'plain text'],
    ['x \n\t {{- "y" }}', 'xy'],
    ['{{ "y" -}} \r\n z', 'yz'],
    ['a\n\n  {{- "b" -}}\n\n c', 'abc'],
    ['a {{ "b" }} c', 'a b c'],
    // A minus without a following space is a negative number, not a trim marker.
    ['a {{-3}} b', 'a -3 b'],
    ['{{ 3 -}}   x', '3x'],
    ['{{3 -}} x', '3x'],
    // Only space, tab, CR and LF are trimmed; a no-break space stays.
    ['a\u00a0{{- "b" }}', 'a\u00a0b'],
    ['a {{/* comment */}} b', 'a  b'],
    ['a {{- /* comment */ -}} b', 'ab'],
    ['{{/* spans\nlines */}}x', 'x'],
    ['{{- /* only */ -}}', ''],
    ['}} stray closers are text', '}} stray closers are text'],
    ['{{ "}}" }}', '}}'],
  ];
  for (const [source, expected] of cases) {
    test(`renders ${JSON.stringify(source)}`, async () => {
      assert.equal(await render(source), expected);
    });
  }
});

describe('literals', () => {
  const cases: [string, string][] = [
    ['{{ "a\\tb" }}', 'a\tb'],
    ['{{ "\\u00e9\\U0001F600" }}', 'é😀'],
    ['{{ "\\xc3\\xa9" }}', 'é'],
    ['{{ "\\101\\x42" }}', 'AB'],
    ['{{ "\\a\\b\\f\\v\\\\\\"" }}', '\x07\b\f\v\\"'],
    ['{{ `raw \\n {{ }}` }}', 'raw \\n {{ }}'],
    ['{{ `a\r\nb` }}', 'a\nb'],
    ['{{ 42 }}', '42'],
    ['{{ -7 }}', '-7'],
    ['{{ +7 }}', '7'],
    ['{{ 0x1F }}', '31'],
    ['{{ 0X1f }}', '31'],
    ['{{ 0o17 }}', '15'],
    ['{{ 017 }}', '15'],
    ['{{ 0b101 }}', '5'],
    ['{{ -0x10 }}', '-16'],
    ['{{ 1.5 }}', '1.5'],
    ['{{ 2.0 }}', '2'],
    ['{{ 1. }}', '1'],
    ['{{ .5 }}', '0.5'],
    ['{{ 1e5 }}', '100000'],
    ['{{ 1e6 }}', '1e+06'],
    ['{{ 123456.0 }}', '123456'],
    ['{{ 1234567.0 }}', '1.234567e+06'],
    ['{{ 0.0001 }}', '0.0001'],
    ['{{ 0.00001 }}', '1e-05'],
    ['{{ 1.0e-7 }}', '1e-07'],
    ['{{ 1e21 }}', '1e+21'],
    ['{{ 1e100 }}', '1e+100'],
    ['{{ -0.0 }}', '-0'],
    ['{{ 9007199254740991 }}', '9007199254740991'],
    ['{{ true }} {{ false }}', 'true false'],
  ];
  for (const [source, expected] of cases) {
    test(`renders ${source}`, async () => {
      assert.equal(await render(source), expected);
    });
  }
});

describe('parse errors', () => {
  // [source, code, line, column, words the reason contains]
  const cases: [string, string, number, number, string][] = [
    ['{{ .a ', 'SYNTAX', 1, 1, 'unclosed action'],
    ['line1\n  {{ if .x }}', 'SYNTAX', 2, 14, 'unexpected EOF'],
    ['{{ end }}', 'SYNTAX', 1, 4, 'unexpected {{end}}'],
    ['x{{ else }}', 'SYNTAX', 1, 5, 'unexpected {{else}}'],
    ['a\n{{ .x | 1 }}', 'SYNTAX', 2, 9, 'non executable command in pipeline stage 2'],
    ['{{ $x }}', 'SYNTAX', 1, 4, 'undefined variable "$x"'],
    ['é{{ $y }}', 'SYNTAX', 1, 5, 'undefined variable "$y"'],
    ['😀{{ $y }}', 'SYNTAX', 1, 5, 'undefined variable "$y"'],
    ['{{ range $i, $v := . }}{{ end }}{{ $i }}', 'SYNTAX', 1, 36, 'undefined variable "$i"'],
    ['{{ if $x := 1 }}{{ end }}{{ $x }}', 'SYNTAX', 1, 29, 'undefined variable "$x"'],
    ['{{ "abc }}', 'SYNTAX', 1, 4, 'unterminated quoted string'],
    ['{{ `abc }}', 'SYNTAX', 1, 4, 'unterminated raw quoted string'],
    ['{{ .a.b!c }}', 'SYNTAX', 1, 8, "bad character U+0021 '!'"],
    ['{{ ( .a }}', 'SYNTAX', 1, 1, 'unclosed left paren'],
    ['{{ .a ) }}', 'SYNTAX', 1, 7, 'unexpected right paren'],
    ['{{ /* x */ }}', 'SYNTAX', 1, 4, 'unexpected "/" in command'],
    ['{{/* x */ }}', 'SYNTAX', 1, 10, 'comment ends before closing delimiter'],
    ['{{/* x', 'SYNTAX', 1, 1, 'unclosed comment'],
    ['{{ if 1 }}{{ else }}{{ else }}{{ end }}', 'SYNTAX', 1, 24, 'expected end; found {{else}}'],
    ['{{ range . }}{{ else if 1 }}{{ end }}', 'SYNTAX', 1, 22, 'unexpected <if> in input'],
    ['{{ with 1 }}{{ else if 1 }}{{ end }}', 'SYNTAX', 1, 21, 'unexpected <if> in input'],
    ['{{ break }}', 'SYNTAX', 1, 4, '{{break}} outside {{range}}'],
    ['{{ range . }}{{ else }}{{ continue }}{{ end }}', 'SYNTAX', 1, 27, '{{continue}} outside {{range}}'],
    ['{{ range . }}{{ break 1 }}{{ end }}', 'SYNTAX', 1, 23, 'unexpected "1" in {{break}}'],
    ['{{ $x, $y := 1 }}', 'SYNTAX', 1, 6, 'too many declarations in command'],
    ['{{ range $a, 1 }}', 'SYNTAX', 1, 14, 'range can only initialize variables'],
    ['{{ range $a, $b, $c := . }}{{ end }}', 'SYNTAX', 1, 16, 'too many declarations in range'],
    ['{{ }}', 'SYNTAX', 1, 4, 'missing value for command'],
    ['{{ -}}', 'SYNTAX', 1, 5, 'missing value for command'],
    ['{{-}}', 'SYNTAX', 1, 3, 'illegal number syntax: "-"'],
    ['{{ if }}{{ end }}', 'SYNTAX', 1, 7, 'missing value for if'],
    ['{{ | len }}', 'SYNTAX', 1, 4, 'unexpected "|" in command'],
    ['{{ "a".b }}', 'SYNTAX', 1, 7, 'unexpected . after term "\\"a\\""'],
    ['{{ 3.x }}', 'SYNTAX', 1, 4, 'bad number syntax: "3.x"'],
    ['{{ 1e }}', 'SYNTAX', 1, 4, 'illegal number syntax: "1e"'],
    ['{{ 08 }}', 'SYNTAX', 1, 4, 'illegal number syntax: "08"'],
    ['{{ 99999999999999999999 }}', 'SYNTAX', 1, 4, 'integer overflow'],
    ['{{ "\\q" }}', 'SYNTAX', 1, 4, 'invalid escape \\q'],
    ['{{ "\\uD800" }}', 'SYNTAX', 1, 4, 'not a valid Unicode code point'],
    ['{{ "\\400" }}', 'SYNTAX', 1, 4, 'invalid octal escape'],
    ['{{ a:b }}', 'SYNTAX', 1, 5, 'expected :='],
    ['{{ \u0001 }}', 'SYNTAX', 1, 4, 'unrecognized character in action: U+0001'],
    ['{{ define "x" }}{{ end }}', 'UNSUPPORTED', 1, 4, '{{define}} is not supported'],
    ['{{ template "x" }}', 'UNSUPPORTED', 1, 4, '{{template}} is not supported'],
    ['{{ block "x" . }}{{ end }}', 'UNSUPPORTED', 1, 4, '{{block}} is not supported'],
    ["{{ 'a' }}", 'UNSUPPORTED', 1, 4, 'character constant'],
    ['{{ 1+2i }}', 'UNSUPPORTED', 1, 4, 'complex number'],
    ['{{ 2i }}', 'UNSUPPORTED', 1, 4, 'imaginary number'],
    ['{{ 0x1p4 }}', 'UNSUPPORTED', 1, 4, 'hexadecimal floating-point'],
    ['{{ 1_000 }}', 'UNSUPPORTED', 1, 4, 'digit separators'],
    ['{{ 9007199254740993 }}', 'UNSUPPORTED', 1, 4, 'outside ±(2^53-1)'],
    ['{{ "\\xff" }}', 'UNSUPPORTED', 1, 4, 'not valid UTF-8'],
  ];
  for (const [source, code, line, column, words] of cases) {
    test(`rejects ${JSON.stringify(source)}`, () => {
      const error = syntaxError(source);
      assert.equal(error.code, code);
      assert.equal(error.line, line);
      assert.equal(error.column, column);
      assert.ok(
        error.reason.includes(words),
        `reason ${JSON.stringify(error.reason)} lacks ${JSON.stringify(words)}`,
      );
      assert.equal(error.templateName, 'test');
      assert.equal(error.message, `template: test:${line}:${column}: ${error.reason}`);
    });
  }
});

describe('parse results', () => {
  test('functionNames lists first uses in source order', () => {
    const parsed = parseTemplate('{{ env "A" }}\n{{ nomadVar "p" | len }}{{ env "B" }}', 'names');
    assert.deepEqual(
      [...parsed.functionNames],
      [
        ['env', 3],
        ['nomadVar', 17],
        ['len', 32],
      ],
    );
  });

  test('else if chain does not count toward depth', async () => {
    const links = Array.from({ length: 300 }, (_, i) => `{{ else if eq . ${i} }}${i}`).join('');
    const parsed = parseTemplate(`{{ if eq . -1 }}none${links}{{ else }}other{{ end }}`, 'chain');
    const { renderTemplate } = await import('../../src/template/index.js');
    assert.equal(await renderTemplate(parsed, 299), '299');
    assert.equal(await renderTemplate(parsed, 1000), 'other');
  });

  test('rejects a non-string source with TypeError', () => {
    assert.throws(() => parseTemplate(42 as unknown as string, 'x'), TypeError);
  });
});
