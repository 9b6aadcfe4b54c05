import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render, renderError } from './helpers.js';

type Case = [source: string, data: unknown, expected: string];

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    for (const [source, data, expected] of cases) {
      test(`${source} over ${JSON.stringify(data)}`, async () => {
        assert.equal(await render(source, data), expected);
      });
    }
  });
}

const unsafeFloat = 2 ** 53;

table('printing values', [
  ['{{ . }}', { b: 1, a: 'x' }, 'map[a:x b:1]'],
  ['{{ . }}', [1, 2, 3], '[1 2 3]'],
  ['{{ . }}', [[1, 2], [3]], '[[1 2] [3]]'],
  ['{{ . }}', [], '[]'],
  ['{{ . }}', {}, 'map[]'],
  ['{{ . }}', [null, 'a b', true], '[<nil> a b true]'],
  ['{{ . }}', { a: null, b: [] }, 'map[a:<nil> b:[]]'],
  ['{{ . }}', { a: { c: [1.5] } }, 'map[a:map[c:[1.5]]]'],
  ['{{ .x }}', { x: 1.5 }, '1.5'],
  ['{{ .x }}', { x: 0.1 + 0.2 }, '0.30000000000000004'],
  ['{{ .x }}', { x: 1e21 }, '1e+21'],
  ['{{ .x }}', { x: unsafeFloat }, '9.007199254740992e+15'],
  ['{{ .x }}', { x: 1e15 }, '1000000000000000'],
  ['{{ .x }}', { x: -0 }, '0'],
  [
    '{{ .x }} {{ .y }} {{ .z }}',
    { x: Number.NaN, y: Number.POSITIVE_INFINITY, z: Number.NEGATIVE_INFINITY },
    'NaN +Inf -Inf',
  ],
  ['{{ .t }} {{ .f }}', { t: true, f: false }, 'true false'],
  ['{{ .a }}', { a: null }, '<no value>'],
  ['{{ .a }}', { a: undefined }, '<no value>'],
  ['{{ .missing }}', {}, '<no value>'],
  ['{{ .missing.deeper.still }}', {}, '<no value>'],
  ['{{ . }} {{ .x }} {{ $ }}', null, '<no value> <no value> <no value>'],
  ['{{ .constructor }} {{ .toString }}', {}, '<no value> <no value>'],
  ['{{ .héllo }}', { héllo: 'unicode key' }, 'unicode key'],
  ['{{ .a.b.c }}', { a: { b: { c: 'deep' } } }, 'deep'],
  ['{{ . }}', { B: 1, a: 2, '10': 3, '9': 4, b: 5 }, 'map[10:3 9:4 B:1 a:2 b:5]'],
]);

table('truth in if', [
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: false }, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: 0 }, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: '' }, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: [] }, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: {} }, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: null }, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', {}, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: { a: undefined } }, 'F'],
  ['{{ if 0.0 }}T{{ else }}F{{ end }}', null, 'F'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: true }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: -1 }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: 0.5 }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: '0' }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: 'false' }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: [0] }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: { a: 0 } }, 'T'],
  ['{{ if .v }}T{{ else }}F{{ end }}', { v: Number.NaN }, 'T'],
  ['{{ if .v }}T{{ end }}', { v: false }, ''],
]);

table('if, with and else chains', [
  ['{{ if .a }}A{{ else if .b }}B{{ else if .c }}C{{ else }}D{{ end }}', { b: 1, c: 1 }, 'B'],
  ['{{ if .a }}A{{ else if .b }}B{{ else if .c }}C{{ else }}D{{ end }}', { c: 1 }, 'C'],
  ['{{ if .a }}A{{ else if .b }}B{{ else if .c }}C{{ else }}D{{ end }}', {}, 'D'],
  ['{{ if .a }}A{{ else if .b }}B{{ end }}', {}, ''],
  ['{{ with .a }}[{{ . }}]{{ else }}none{{ end }}', { a: 'x' }, '[x]'],
  ['{{ with .a }}[{{ . }}]{{ else }}none{{ end }}', { a: '' }, 'none'],
  ['{{ with .a }}{{ .b }}{{ end }}', { a: { b: 'inner' } }, 'inner'],
  ['{{ with .a }}A{{ . }}{{ else with .b }}B{{ . }}{{ else }}C{{ end }}', { b: 2 }, 'B2'],
  ['{{ with .a }}A{{ . }}{{ else with .b }}B{{ . }}{{ else }}C{{ end }}', {}, 'C'],
  ['{{ with .a }}{{ $.top }}{{ end }}', { a: 1, top: 'root' }, 'root'],
  ['{{ with $x := .a }}{{ $x }}{{ . }}{{ end }}', { a: 'v' }, 'vv'],
  ['{{ if .a }}{{ if .b }}AB{{ else }}A{{ end }}{{ end }}', { a: 1 }, 'A'],
]);

table('range', [
  ['{{ range . }}[{{ . }}]{{ end }}', [1, 2], '[1][2]'],
  ['{{ range $i, $v := . }}{{ $i }}:{{ $v }} {{ end }}', ['a', 'b'], '0:a 1:b '],
  ['{{ range $v := . }}{{ $v }}{{ end }}', ['a', 'b'], 'ab'],
  ['{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}', { b: 2, a: 1, B: 3 }, 'B=3;a=1;b=2;'],
  ['{{ range . }}{{ . }}{{ end }}', { z: 'last', m: 'mid', a: 'first' }, 'firstmidlast'],
  ['{{ range $k, $v := . }}{{ $k }}{{ end }}', { '10': 1, '9': 2, '': 3 }, '109'],
  ['{{ range . }}x{{ else }}empty{{ end }}', [], 'empty'],
  ['{{ range . }}x{{ else }}empty{{ end }}', {}, 'empty'],
  ['{{ range .missing }}x{{ else }}empty{{ end }}', {}, 'empty'],
  ['{{ range .n }}x{{ else }}empty{{ end }}', { n: null }, 'empty'],
  ['{{ range . }}{{ . }}{{ end }}', [null], '<no value>'],
  ['{{ range 3 }}{{ . }}{{ end }}', null, '012'],
  ['{{ range $i := 3 }}{{ $i }}{{ end }}', null, '012'],
  ['{{ range 0 }}x{{ else }}none{{ end }}', null, 'none'],
  ['{{ range -2 }}x{{ else }}none{{ end }}', null, 'none'],
  ['{{ range .list }}{{ $.name }}{{ . }} {{ end }}', { name: 'n', list: [1, 2] }, 'n1 n2 '],
  [
    '{{ range $i, $e := . }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ if gt $i 2 }}{{ break }}{{ end }}{{ $e }}{{ end }}',
    ['a', 'b', 'c', 'd', 'e'],
    'ac',
  ],
  [
    '{{ range . }}{{ range . }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }};{{ end }}',
    [[1, 2, 3], [4]],
    '1;4;',
  ],
  [
    '{{ range .outer }}{{ range $.empty }}{{ else }}{{ continue }}{{ end }}{{ . }}{{ end }}done',
    { outer: [1, 2], empty: [] },
    'done',
  ],
  [
    '{{ range .outer }}{{ range $.empty }}{{ else }}{{ break }}{{ end }}{{ . }}{{ end }}',
    { outer: [1, 2], empty: [] },
    '12',
  ],
  ['{{ range $i, $v := . }}{{ end }}{{ "after" }}', [1], 'after'],
]);

table('variables', [
  ['{{ $x := 1 }}{{ $x }}', null, '1'],
  ['{{ $x := 1 }}{{ $x = 2 }}{{ $x }}', null, '2'],
  ['{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', null, '2'],
  ['{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', null, '21'],
  ['{{ $n := 0 }}{{ range . }}{{ $n = . }}{{ end }}{{ $n }}', [1, 2, 3], '3'],
  ['{{ $x := .a }}{{ $x.b }}', { a: { b: 'field of variable' } }, 'field of variable'],
  ['{{ $x := .missing }}{{ $x.b }}', {}, '<no value>'],
  ['{{ $x := "a" | printf "%s-%s" "b" }}{{ $x }}', null, 'b-a'],
  ['{{ ($x := 5) }} {{ $x }}', null, '5 5'],
  ['{{ $ := 1 }}{{ $ }}', { a: 1 }, '1'],
  ['{{ $i := 9 }}{{ range $i, $v := . }}{{ $i }}{{ end }}{{ $i }}', ['a', 'b'], '019'],
  ['{{ $k := "" }}{{ $v := "" }}{{ range $k, $v = . }}{{ end }}{{ $k }}={{ $v }}', { a: 1, b: 2 }, 'b=2'],
  ['{{ $v := 0 }}{{ range $v = . }}{{ end }}{{ $v }}', [7, 8], '8'],
  ['{{ with $x := 0 }}yes{{ else }}no {{ $x }}{{ end }}', null, 'no 0'],
  ['{{ if $x := .a }}A{{ else if $y := .b }}{{ $x }}/{{ $y }}{{ end }}', { a: '', b: 'B' }, '/B'],
]);

table('pipelines', [
  ['{{ "a" | printf "%s%s" "b" }}', null, 'ba'],
  ['{{ .x | len }}', { x: 'abc' }, '3'],
  ['{{ "x" | eq "x" }}', null, 'true'],
  ['{{ 1 | print 2 3 }}', null, '2 3 1'],
  ['{{ "a" | printf "%s!" | printf "<%s>" }}', null, '<a!>'],
  ['{{ (len "ab") }}', null, '2'],
  ['{{ print (len "ab") (len "abc") }}', null, '2 3'],
  ['{{ (.m).k }}', { m: { k: 'v' } }, 'v'],
  ['{{ (index .l 0).name }}', { l: [{ name: 'first' }] }, 'first'],
  ['{{ ((.missing)).x }}', {}, '<no value>'],
  ['{{ and 1 0 2 }}', null, '0'],
  ['{{ and 1 2 }}', null, '2'],
  ['{{ or 0 "" }}', null, ''],
  ['{{ or 0 "x" 1 }}', null, 'x'],
  ['{{ or .missing "default" }}', {}, 'default'],
  ['{{ and .missing 1 }}', {}, '<no value>'],
  ['{{ 0 | and 1 }}', null, '0'],
  ['{{ 1 | or 0 }}', null, '1'],
  ['{{ not 0 }} {{ not "a" }} {{ not .missing }}', {}, 'true false true'],
]);

table('comparison builtins', [
  ['{{ eq 1 1 }} {{ eq 1 2 }} {{ eq 1 2 3 1 }}', null, 'true false true'],
  ['{{ eq "a" "a" }} {{ eq "a" "b" }}', null, 'true false'],
  ['{{ eq true true }} {{ eq 1.5 1.5 }}', null, 'true true'],
  ['{{ eq .missing "x" }} {{ eq .missing nil }} {{ eq .n nil }}', { n: null }, 'false true true'],
  ['{{ eq .list nil }}', { list: [] }, 'false'],
  ['{{ eq .x 3 }}', { x: 3 }, 'true'],
  ['{{ ne 1 2 }} {{ ne "a" "a" }}', null, 'true false'],
  ['{{ lt 1 2 }} {{ lt 2 1 }} {{ lt "a" "b" }} {{ lt 1.5 2.5 }}', null, 'true false true true'],
  ['{{ lt "Z" "a" }} {{ lt "\uffff" "😀" }}', null, 'true true'],
  [
    '{{ le 2 2 }} {{ le 3 2 }} {{ gt 3 2 }} {{ gt 2 2 }} {{ ge 2 2 }} {{ ge 2 3 }}',
    null,
    'true false true false true false',
  ],
  ['{{ gt "b" "a" }}', null, 'true'],
  ['{{ if and (ge .n 1) (lt .n 10) }}in{{ end }}', { n: 5 }, 'in'],
]);

table('len and index', [
  ['{{ len "héllo" }}', null, '6'],
  ['{{ len . }}', [1, 2, 3], '3'],
  ['{{ len . }}', { a: 1, b: 2, c: undefined }, '2'],
  ['{{ index .l 0 }} {{ index .l 2 }}', { l: ['a', 'b', 'c'] }, 'a c'],
  ['{{ index .m "a" 1 }}', { m: { a: [1, 2] } }, '2'],
  ['{{ index .m "nope" }}', { m: { a: 1 } }, '<no value>'],
  ['{{ index .l }}', { l: [1] }, '[1]'],
  ['{{ index .m "k" "j" }}', { m: { k: { j: 'nested' } } }, 'nested'],
]);

describe('execution errors', () => {
  // [source, data, code, line, column, words the reason contains]
  const cases: [string, unknown, string, number, number, string][] = [
    ['line1\n{{ .a.b }}', { a: 's' }, 'EXECUTION', 2, 4, "can't evaluate field b in type string"],
    ['{{ .a.b }}', { a: null }, 'EXECUTION', 1, 4, 'nil pointer evaluating interface {}.b'],
    ['{{ range . }}{{ .x }}{{ end }}', [null], 'EXECUTION', 1, 17, 'nil pointer evaluating'],
    ['{{ .a 1 }}', { a: 1 }, 'EXECUTION', 1, 4, 'a is not a method but has arguments'],
    ['{{ .x | .y }}', { x: 1, y: 2 }, 'EXECUTION', 1, 9, 'y is not a method but has arguments'],
    ['{{ nil }}', null, 'EXECUTION', 1, 4, 'nil is not a command'],
    ['{{ $x := 1 }}{{ $x 2 }}', null, 'EXECUTION', 1, 17, "can't give argument to non-function $x"],
    ['{{ 1 2 }}', null, 'EXECUTION', 1, 4, "can't give argument to non-function 1"],
    [
      '{{ if false }}{{ $x := 1 }}{{ else }}{{ $x }}{{ end }}',
      null,
      'EXECUTION',
      1,
      41,
      'undefined variable: $x',
    ],
    ['{{ $x = 1 }}', null, 'EXECUTION', 1, 4, 'undefined variable: $x'],
    ['{{ range "abc" }}{{ end }}', null, 'EXECUTION', 1, 1, "range can't iterate over abc"],
    ['{{ range 1.5 }}{{ end }}', null, 'EXECUTION', 1, 1, "range can't iterate over 1.5"],
    [
      '{{ range $i, $v := 3 }}{{ end }}',
      null,
      'EXECUTION',
      1,
      1,
      "can't use 3 to iterate over more than one variable",
    ],
    ['{{ and }}', null, 'EXECUTION', 1, 4, 'wrong number of args for and: want at least 1 got 0'],
    ['{{ not }}', null, 'EXECUTION', 1, 4, 'wrong number of args for not: want 1 got 0'],
    ['{{ not 1 2 }}', null, 'EXECUTION', 1, 4, 'wrong number of args for not: want 1 got 2'],
    ['{{ eq }}', null, 'EXECUTION', 1, 4, 'wrong number of args for eq: want at least 1 got 0'],
    ['{{ eq 1 }}', null, 'EXECUTION', 1, 4, 'missing argument for comparison'],
    ['{{ eq 1 1.0 }}', null, 'EXECUTION', 1, 4, 'incompatible types for comparison: int and float64'],
    ['{{ eq 1 "1" }}', null, 'EXECUTION', 1, 4, 'incompatible types for comparison: int and string'],
    ['{{ eq . . }}', [1], 'EXECUTION', 1, 4, 'non-comparable type'],
    ['{{ eq .a .b }}', { a: [], b: {} }, 'EXECUTION', 1, 4, 'non-comparable types'],
    ['{{ ne 1 2 3 }}', null, 'EXECUTION', 1, 4, 'wrong number of args for ne: want 2 got 3'],
    ['{{ lt true false }}', null, 'EXECUTION', 1, 4, 'invalid type for comparison'],
    ['{{ lt 1 2.0 }}', null, 'EXECUTION', 1, 4, 'incompatible types for comparison'],
    ['{{ lt .missing 1 }}', {}, 'EXECUTION', 1, 4, 'invalid type for comparison'],
    ['{{ len 3 }}', null, 'EXECUTION', 1, 4, 'error calling len: len of type int'],
    ['{{ len .missing }}', {}, 'EXECUTION', 1, 4, 'error calling len'],
    ['{{ index .l 3 }}', { l: [1, 2, 3] }, 'EXECUTION', 1, 4, 'error calling index: index out of range: 3'],
    ['{{ index .l -1 }}', { l: [1] }, 'EXECUTION', 1, 4, 'index out of range: -1'],
    ['{{ index .l "a" }}', { l: [1] }, 'EXECUTION', 1, 4, 'cannot index slice/array with type string'],
    ['{{ index .l 1.0 }}', { l: [1, 2] }, 'EXECUTION', 1, 4, 'cannot index slice/array with type float64'],
    ['{{ index .m 1 }}', { m: {} }, 'EXECUTION', 1, 4, 'value has type int; should be string'],
    ['{{ index .missing 0 }}', {}, 'EXECUTION', 1, 4, 'index of untyped nil'],
    ['{{ index .l 0 0 }}', { l: [null] }, 'EXECUTION', 1, 4, 'index of nil pointer'],
    ['{{ index 5 0 }}', null, 'EXECUTION', 1, 4, "can't index item of type int"],
    ['{{ printf 5 }}', null, 'EXECUTION', 1, 4, 'wrong type for value; expected string; got int'],
    ['{{ printf .missing }}', {}, 'EXECUTION', 1, 4, 'invalid value; expected string'],
    ['{{ index "abc" 0 }}', null, 'UNSUPPORTED', 1, 4, 'index of a string'],
    ['{{ html "<" }}', null, 'UNSUPPORTED', 1, 4, 'builtin function "html" is not supported'],
    ['{{ if false }}{{ urlquery "a" }}{{ end }}', null, 'UNSUPPORTED', 1, 18, 'builtin function "urlquery"'],
    ['{{ .f }}', { f: () => 1 }, 'UNSUPPORTED', 1, 4, 'JavaScript type function'],
    ['{{ if .m }}{{ end }}', { m: new Map() }, 'UNSUPPORTED', 1, 7, 'JavaScript type Map'],
    ['{{ .d.x }}', { d: new Date(0) }, 'UNSUPPORTED', 1, 4, 'JavaScript type Date'],
  ];
  for (const [source, data, code, line, column, words] of cases) {
    test(`fails ${JSON.stringify(source)}`, async () => {
      const error = await renderError(source, data);
      assert.equal(error.code, code);
      assert.equal(error.line, line);
      assert.equal(error.column, column);
      assert.ok(
        error.reason.includes(words),
        `reason ${JSON.stringify(error.reason)} lacks ${JSON.stringify(words)}`,
      );
    });
  }
});

describe('rendering', () => {
  test('parsed template renders many times with different data', async () => {
    const { parseTemplate, renderTemplate } = await import('../../src/template/index.js');
    const parsed = parseTemplate('{{ .n }}', 'reuse');
    assert.equal(await renderTemplate(parsed, { n: 1 }), '1');
    assert.equal(await renderTemplate(parsed, { n: 2 }), '2');
  });

  test('text around failing action is not returned', async () => {
    const error = await renderError('before {{ .a.b }} after', { a: 1 });
    assert.equal(error.code, 'EXECUTION');
  });
});
