import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { render, renderError } from './helpers.js';

type Case = [source: string, data: unknown, expected: string];

function table(name: string, cases: readonly Case[]): void {
  describe(name, () => {
    for (const [source, data, expected] of cases) {
      test(`${source}`, async () => {
        assert.equal(await render(source, data), expected);
      });
    }
  });
}

table('printf verbs', [
  ['{{ printf "%s" "x" }}', null, 'x'],
  ['{{ printf "%d" 42 }}', null, '42'],
  ['{{ printf "%v" . }}', [1, 2], '[1 2]'],
  ['{{ printf "%v" . }}', { b: [1], a: 'x' }, 'map[a:x b:[1]]'],
  ['{{ printf "%q" "a\\"b" }}', null, '"a\\"b"'],
  ['{{ printf "%q" "é\\n\\x01\\u00a0😀" }}', null, '"é\\n\\x01\\u00a0😀"'],
  ['{{ printf "%q" "\\u200b\\U000E0001" }}', null, '"\\u200b\\U000e0001"'],
  ['{{ printf "%q" 65 }}', null, "'A'"],
  ['{{ printf "%q" 39 }}', null, "'\\''"],
  ['{{ printf "%q" 34 }}', null, `'"'`],
  ['{{ printf "%q" 10 }}', null, "'\\n'"],
  ['{{ printf "%q" 128512 }}', null, "'😀'"],
  ['{{ printf "%q" -1 }}', null, "'�'"],
  ['{{ printf "%x" "hi" }}', null, '6869'],
  ['{{ printf "%x" "é" }}', null, 'c3a9'],
  ['{{ printf "%X" "hi" }}', null, '6869'],
  ['{{ printf "%x" 255 }}', null, 'ff'],
  ['{{ printf "%X" 255 }}', null, 'FF'],
  ['{{ printf "%x" -255 }}', null, '-ff'],
  ['{{ printf "%t" true }}', null, 'true'],
  ['{{ printf "%f" 1.5 }}', null, '1.500000'],
  ['{{ printf "%.2f" 2.675 }}', null, '2.67'],
  ['{{ printf "%.2f" 1.005 }}', null, '1.00'],
  ['{{ printf "%.0f" 2.5 }}', null, '2'],
  ['{{ printf "%.0f" 3.5 }}', null, '4'],
  ['{{ printf "%.1f" 0.25 }}', null, '0.2'],
  ['{{ printf "%.1f" 0.35 }}', null, '0.3'],
  ['{{ printf "%.f" 2.5 }}', null, '2'],
  ['{{ printf "%.3f" 1e21 }}', null, '1000000000000000000000.000'],
  ['{{ printf "%.2f" -0.001 }}', null, '-0.00'],
  ['{{ printf "%f" .x }}', { x: 0.1 }, '0.100000'],
  ['{{ printf "%.20f" .x }}', { x: 0.1 }, '0.10000000000000000555'],
  ['{{ printf "%f" .x }}', { x: 5e-324 }, '0.000000'],
  [
    '{{ printf "%f %f %f" .a .b .c }}',
    { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: Number.NEGATIVE_INFINITY },
    'NaN +Inf -Inf',
  ],
  ['{{ printf "%v" 0.1 }}', null, '0.1'],
  ['{{ printf "%%" }}', null, '%'],
  ['{{ printf "%5%" }}', null, '%'],
  ['{{ printf "100%%" }}', null, '100%'],
]);

table('printf width, precision and flags', [
  ['{{ printf "%5d|" 42 }}', null, '   42|'],
  ['{{ printf "%-5d|" 42 }}', null, '42   |'],
  ['{{ printf "%05d" -42 }}', null, '-0042'],
  ['{{ printf "%-05d|" 5 }}', null, '5    |'],
  ['{{ printf "%+d %+d" 5 -5 }}', null, '+5 -5'],
  ['{{ printf "%+05d" 5 }}', null, '+0005'],
  ['{{ printf "%2d" 12345 }}', null, '12345'],
  ['{{ printf "%04x" 255 }}', null, '00ff'],
  ['{{ printf "%+.1f" 2.0 }}', null, '+2.0'],
  ['{{ printf "%08.3f" -1.5 }}', null, '-001.500'],
  ['{{ printf "%6.2f|" 3.14159 }}', null, '  3.14|'],
  ['{{ printf "%-8.2f|" 3.14159 }}', null, '3.14    |'],
  ['{{ printf "%06f" .x }}', { x: Number.POSITIVE_INFINITY }, '  +Inf'],
  ['{{ printf "%.3s" "abcdef" }}', null, 'abc'],
  ['{{ printf "%.1s" "éa" }}', null, 'é'],
  ['{{ printf "%5s|" "é" }}', null, '    é|'],
  ['{{ printf "%-3s|" "a" }}', null, 'a  |'],
  ['{{ printf "%.2q" "abc" }}', null, '"ab"'],
  ['{{ printf "%6q" "a" }}', null, '   "a"'],
  ['{{ printf "%3v|%-6t|" "x" true }}', null, '  x|true  |'],
  ['{{ printf "%6v" 1.5 }}', null, '   1.5'],
  ['{{ printf "%5.1f%%" 99.5 }}', null, ' 99.5%'],
]);

table('printf bad verbs and argument counts', [
  ['{{ printf "%d" "a" }}', null, '%!d(string=a)'],
  ['{{ printf "%s" 5 }}', null, '%!s(int=5)'],
  ['{{ printf "%d" 1.5 }}', null, '%!d(float64=1.5)'],
  ['{{ printf "%f" 1 }}', null, '%!f(int=1)'],
  ['{{ printf "%t" 1 }}', null, '%!t(int=1)'],
  ['{{ printf "%d" true }}', null, '%!d(bool=true)'],
  ['{{ printf "%q" 1.5 }}', null, '%!q(float64=1.5)'],
  ['{{ printf "%s" . }}', [1, 2], '[%!s(int=1) %!s(int=2)]'],
  ['{{ printf "%d" . }}', [1, 'a'], '[1 %!d(string=a)]'],
  ['{{ printf "%s" . }}', { a: 1 }, 'map[a:%!s(int=1)]'],
  ['{{ printf "%d" . }}', { a: 1 }, 'map[%!d(string=a):1]'],
  ['{{ printf "%d" . }}', [null], '[<nil>]'],
  ['{{ printf "%v" nil }}', null, '<nil>'],
  ['{{ printf "%s" nil }}', null, '%!s(<nil>)'],
  ['{{ printf "%v" .missing }}', {}, '<nil>'],
  ['{{ printf "%d" }}', null, '%!d(MISSING)'],
  ['{{ printf "%d %s" 1 }}', null, '1 %!s(MISSING)'],
  ['{{ printf "a" 1 "b" }}', null, 'a%!(EXTRA int=1, string=b)'],
  ['{{ printf "a" nil . }}', [1], 'a%!(EXTRA <nil>, []interface {}=[1])'],
  ['{{ printf "100%" }}', null, '100%!(NOVERB)'],
  ['{{ printf "%z" 1 }}', null, '%!z(int=1)'],
  ['{{ printf "%!" "a" }}', null, '%!!(string=a)'],
  ['{{ printf "% d" }}', null, '%!d(MISSING)'],
]);

table('print and println', [
  ['{{ print "a" "b" }}', null, 'ab'],
  ['{{ print 1 2 }}', null, '1 2'],
  ['{{ print "a" 1 "b" }}', null, 'a1b'],
  ['{{ print 1 "a" 2 }}', null, '1a2'],
  ['{{ print 1 2 "a" "b" 3 }}', null, '1 2ab3'],
  ['{{ print true 1.5 }}', null, 'true 1.5'],
  ['{{ print nil }}', null, '<nil>'],
  ['{{ print .missing 1 }}', {}, '<nil> 1'],
  ['{{ print .n }}', { n: null }, '<nil>'],
  ['{{ print }}', null, ''],
  ['{{ print 1.0 (eq 1 1) }}', null, '1 true'],
  ['{{ print . }}', { a: [1, { b: null }] }, 'map[a:[1 map[b:<nil>]]]'],
  ['{{ println "a" 1 }}', null, 'a 1\n'],
  ['{{ println "a" "b" }}', null, 'a b\n'],
  ['{{ println }}', null, '\n'],
]);

describe('printf unsupported directives', () => {
  const cases: [string, string][] = [
    ['{{ printf "%e" 1.5 }}', 'printf verb %e'],
    ['{{ printf "%g" 1.5 }}', 'printf verb %g'],
    ['{{ printf "%c" 65 }}', 'printf verb %c'],
    ['{{ printf "%T" 1 }}', 'printf verb %T'],
    ['{{ printf "% d" 1 }}', 'printf flag " "'],
    ['{{ printf "%#v" 1 }}', 'printf flag "#"'],
    ['{{ printf "%[1]d" 1 }}', 'explicit argument indexes'],
    ['{{ printf "%*d" 5 1 }}', 'widths taken from arguments'],
    ['{{ printf "%x" 1.5 }}', 'printf verb %x for a float64'],
    ['{{ printf "%05s" "a" }}', 'printf flag 0 with %s'],
    ['{{ printf "%+v" 1 }}', 'printf flag + with %v'],
    ['{{ printf "%.2d" 1 }}', 'printf precision with %d'],
    ['{{ printf "%5v" . }}', 'flags, width or precision for a value of type []interface {}'],
    ['{{ printf "%x" . }}', 'printf verb %x for a value of type []interface {}'],
    ['{{ printf "%5d" "a" }}', 'with flags, width or precision for a value of type string'],
    ['{{ printf "%2000000d" 1 }}', "above Go's limit"],
  ];
  for (const [source, words] of cases) {
    test(`rejects ${source}`, async () => {
      const error = await renderError(source, [1]);
      assert.equal(error.code, 'UNSUPPORTED');
      assert.equal(error.functionName, '');
      assert.ok(error.reason.startsWith('error calling printf: '), error.reason);
      assert.ok(
        error.reason.includes(words),
        `reason ${JSON.stringify(error.reason)} lacks ${JSON.stringify(words)}`,
      );
    });
  }
});
