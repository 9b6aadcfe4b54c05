import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RENDER_LIMITS, parseTemplate, renderTemplate } from '../../src/template/index.js';
import { render, renderError, syntaxError } from './helpers.js';

describe('output limit', () => {
  test('output at the limit renders', async () => {
    const output = await render(
      '{{ range . }}0123456789{{ end }}',
      Array(100).fill(0),
      {},
      { maxOutputBytes: 1000 },
    );
    assert.equal(output.length, 1000);
  });

  test('output past the limit fails', async () => {
    const error = await renderError(
      '{{ range . }}0123456789{{ end }}',
      Array(101).fill(0),
      {},
      { maxOutputBytes: 1000 },
    );
    assert.equal(error.code, 'OUTPUT_LIMIT');
    assert.equal(error.line, 1);
  });

  test('limit counts UTF-8 bytes', async () => {
    assert.equal(await render('éé', null, {}, { maxOutputBytes: 4 }), 'éé');
    const error = await renderError('éé', null, {}, { maxOutputBytes: 3 });
    assert.equal(error.code, 'OUTPUT_LIMIT');
  });

  test('doubling a string in a loop stops at the limit', async () => {
    const source = '{{ $s := "ab" }}{{ range 200 }}{{ $s = printf "%s%s" $s $s }}{{ end }}{{ len $s }}';
    const error = await renderError(source);
    assert.equal(error.code, 'OUTPUT_LIMIT');
    assert.ok(error.reason.startsWith('error calling printf'));
  });

  test('printf width beyond the limit fails before padding', async () => {
    const error = await renderError('{{ printf "%999999d" 1 }}', null, {}, { maxOutputBytes: 1000 });
    assert.equal(error.code, 'OUTPUT_LIMIT');
  });

  test('printing wide shared data stops at the limit', async () => {
    let shared: unknown = 'x'.repeat(10);
    for (let i = 0; i < 40; i++) shared = [shared, shared];
    const error = await renderError('{{ . }}', shared);
    assert.equal(error.code, 'OUTPUT_LIMIT');
  });
});

describe('range limit', () => {
  test('nested ranges share one budget', async () => {
    const rows = Array.from({ length: 400 }, () => Array(400).fill(1));
    const error = await renderError('{{ range . }}{{ range . }}{{ end }}{{ end }}', rows);
    assert.equal(error.code, 'RANGE_LIMIT');
  });

  test('range over a huge int stops at the limit', async () => {
    const error = await renderError(
      '{{ range 1000000000000 }}{{ end }}',
      null,
      {},
      { maxRangeIterations: 50 },
    );
    assert.equal(error.code, 'RANGE_LIMIT');
  });

  test('iterations up to the limit render', async () => {
    assert.equal(await render('{{ range 5 }}.{{ end }}', null, {}, { maxRangeIterations: 5 }), '.....');
  });
});

describe('depth limit', () => {
  function nestedIfs(depth: number): string {
    return `${'{{ if 1 }}'.repeat(depth)}in${'{{ end }}'.repeat(depth)}`;
  }

  test('render depth limit', async () => {
    assert.equal(await render(nestedIfs(3), null, {}, { maxDepth: 3 }), 'in');
    const error = await renderError(nestedIfs(4), null, {}, { maxDepth: 3 });
    assert.equal(error.code, 'DEPTH_LIMIT');
    assert.equal(error.column, 31);
  });

  test('parenthesized pipelines count toward render depth', async () => {
    assert.equal(await render('{{ print (print (print 1)) }}', null, {}, { maxDepth: 2 }), '1');
    const error = await renderError('{{ print (print (print 1)) }}', null, {}, { maxDepth: 1 });
    assert.equal(error.code, 'DEPTH_LIMIT');
    assert.equal(error.column, 18);
  });

  test('parse depth limit', () => {
    const error = syntaxError(nestedIfs(4), { maxDepth: 3 });
    assert.equal(error.code, 'DEPTH_LIMIT');
    assert.equal(error.column, 31);
  });

  test('deep nesting fails with DEPTH_LIMIT, not a stack overflow', () => {
    assert.equal(syntaxError(nestedIfs(20_000)).code, 'DEPTH_LIMIT');
    assert.equal(syntaxError(`{{ ${'('.repeat(100_000)}1${')'.repeat(100_000)} }}`).code, 'DEPTH_LIMIT');
  });

  test('cyclic data fails when printed', async () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const error = await renderError('{{ . }}', cyclic);
    assert.equal(error.code, 'DEPTH_LIMIT');
    assert.equal(await render('{{ .self.self.self.name }}', cyclic), 'loop');
  });
});

describe('limit options', () => {
  test('defaults', () => {
    assert.deepEqual(DEFAULT_RENDER_LIMITS, {
      maxOutputBytes: 1024 * 1024,
      maxRangeIterations: 100_000,
      maxDepth: 100,
    });
  });

  for (const options of [
    { maxOutputBytes: 0 },
    { maxRangeIterations: -1 },
    { maxDepth: 1.5 },
    { maxDepth: Number.NaN },
  ]) {
    test(`rejects ${JSON.stringify(options)}`, async () => {
      await assert.rejects(renderTemplate(parseTemplate('x', 't'), null, {}, options), RangeError);
    });
  }

  test('rejects an invalid parse depth', () => {
    assert.throws(() => parseTemplate('x', 't', { maxDepth: 0 }), RangeError);
  });
});

describe('event loop', () => {
  test('long range lets queued callbacks run before it ends', async () => {
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    let sawImmediate = false;
    const functions = {
      probe: () => {
        sawImmediate ||= immediateRan;
        return '';
      },
    };
    // Tens of thousands of iterations take far longer than the 10 ms between yields.
    await render(
      '{{ range . }}{{ probe }}{{ printf "%05d" . }}{{ end }}',
      Array.from({ length: 50_000 }, (_, i) => i),
      functions,
    );
    assert.ok(sawImmediate, 'the range never yielded to the event loop');
  });
});
