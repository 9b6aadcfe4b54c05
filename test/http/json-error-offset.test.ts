import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jsonErrorOffset } from '../../src/http/json-error-offset.js';

/** JSON.parse's position for `text`, when its message gives one; undefined for valid JSON. */
function parsePosition(text: string): number | null | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    const match = / at position (\d+)/.exec((err as Error).message);
    if (match !== null) return Number(match[1]);
    return /Unexpected end of JSON input/.test((err as Error).message) ? text.length : null;
  }
}

const VALID = [
  '{}',
  '[]',
  ' {"a" : [1, -2.5e+3, 0, 0.25E-2, true, false, null, "x\\"y\\\\z\\/\\b\\f\\n\\r\\t\\u00e9"]}\n',
  '"just a string"',
  '-0',
  '{"__proto__": "x", "nested": {"deep": [[[{}]]]}}',
  '"\\ud83d\\ude00 \u00e9"',
];

describe('jsonErrorOffset', () => {
  test('valid JSON has no offset', () => {
    for (const text of VALID) assert.equal(jsonErrorOffset(text), null, text);
  });

  const cases: [string, number][] = [
    ['{"password":hunter2}', 12],
    ['[1,2,,3]', 5],
    ['{"a": tru}', 9],
    ['{"a":1,}', 7],
    ['{"a":1', 6],
    ['{"a":1} x', 8],
    ['{a:1}', 1],
    ['{"a":"\u0001"}', 6],
    ['"abc', 4],
    ['{"a": 01}', 7],
    ['{"a": -}', 7],
    ['{"a": 1.}', 8],
    ['{"a": 1e}', 8],
    ['"\\x"', 2],
    ['"\\u12G4"', 5],
    ['\ufeff{}', 0],
    ['[1 2]', 3],
    ['{"a" 1}', 5],
    ['[}', 1],
    ['{]', 1],
    ['   ', 3],
  ];
  for (const [text, offset] of cases) {
    test(`offset of ${JSON.stringify(text)}`, () => {
      assert.equal(jsonErrorOffset(text), offset);
    });
  }

  test('deep nesting does not overflow', () => {
    assert.equal(jsonErrorOffset('['.repeat(200_000)), 200_000);
    assert.equal(jsonErrorOffset(`${'['.repeat(200_000)}${']'.repeat(200_000)}`), null);
  });

  test('agrees with JSON.parse on mutations', () => {
    // Every truncation and many one-character replacements of the valid samples: the scan must
    // reject exactly what JSON.parse rejects, at JSON.parse's position whenever it gives one.
    const replacements = [
      '',
      ' ',
      '"',
      '\\',
      ',',
      ':',
      '{',
      '}',
      '[',
      ']',
      '0',
      '-',
      'e',
      '.',
      'x',
      '\u0001',
    ];
    let compared = 0;
    for (const sample of VALID) {
      const variants = new Set<string>();
      for (let i = 0; i <= sample.length; i++) {
        variants.add(sample.slice(0, i));
        for (const replacement of replacements) {
          variants.add(sample.slice(0, i) + replacement + sample.slice(i + 1));
        }
      }
      for (const text of variants) {
        const expected = parsePosition(text);
        const actual = jsonErrorOffset(text);
        if (expected === undefined) {
          assert.equal(actual, null, `valid: ${JSON.stringify(text)}`);
          continue;
        }
        assert.notEqual(actual, null, `invalid: ${JSON.stringify(text)}`);
        if (expected !== null) {
          assert.equal(actual, expected, `position in ${JSON.stringify(text)}`);
          compared++;
        }
      }
    }
    assert.ok(compared > 500, `compared ${compared} positions`);
  });
});
