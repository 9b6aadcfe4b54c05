import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parseTemplate,
  renderTemplate,
  type TemplateFunctions,
  TemplateRenderError,
} from '../../src/template/index.js';
import { render, renderError } from './helpers.js';

/** Resolves on a later turn of the event loop, as a network read would. */
function later<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(value)));
}

const variables: Record<string, Record<string, string>> = {
  'nomad/jobs/example': { user: 'admin', password: 's3cret' },
  'shared/db': { host: 'db.internal', port: '5432' },
};

/** Functions shaped like the client's: the variable's items as fields, read asynchronously. */
const nomadFunctions: TemplateFunctions = {
  nomadVar: async (path: string) => {
    const items = variables[path];
    if (!items) throw new Error(`variable ${JSON.stringify(path)} not found`);
    return later({ ...items });
  },
  nomadVarExists: async (path: string) => later(path in variables),
  nomadVarList: async (prefix?: string) =>
    later(
      Object.keys(variables)
        .filter((path) => path.startsWith(prefix ?? ''))
        .map((path) => ({ Path: path, Namespace: 'default' })),
    ),
  env: (name: string) => ({ NOMAD_TASK_NAME: 'redis' })[name] ?? '',
};

describe('Nomad-style functions', () => {
  const cases: [string, string][] = [
    ['{{ with nomadVar "nomad/jobs/example" }}{{ .user }}:{{ .password }}{{ end }}', 'admin:s3cret'],
    [
      '{{ range $k, $v := nomadVar "shared/db" }}{{ $k }}={{ $v }}\n{{ end }}',
      'host=db.internal\nport=5432\n',
    ],
    ['{{ if nomadVarExists "shared/db" }}yes{{ else }}no{{ end }}', 'yes'],
    ['{{ if nomadVarExists "nope" }}yes{{ else }}no{{ end }}', 'no'],
    ['{{ range nomadVarList "shared" }}{{ .Path }}@{{ .Namespace }} {{ end }}', 'shared/db@default '],
    ['{{ range nomadVarList }}{{ .Path }} {{ end }}', 'nomad/jobs/example shared/db '],
    ['{{ (nomadVar "shared/db").host }}', 'db.internal'],
    ['{{ $db := nomadVar "shared/db" }}{{ $db.host }}:{{ $db.port }}', 'db.internal:5432'],
    ['{{ with nomadVar "shared/db" }}{{ .missing }}{{ end }}', '<no value>'],
    ['{{ env "NOMAD_TASK_NAME" }}', 'redis'],
    ['{{ "shared/db" | nomadVar | len }}', '2'],
    ['{{ nomadVar "shared/db" }}', 'map[host:db.internal port:5432]'],
  ];
  for (const [source, expected] of cases) {
    test(`renders ${JSON.stringify(source)}`, async () => {
      assert.equal(await render(source, null, nomadFunctions), expected);
    });
  }

  test('caller shapes a variable with Items, Metadata and Path', async () => {
    const functions: TemplateFunctions = {
      nomadVar: async (path: string) =>
        later({ Path: path, Items: { user: 'u' }, Metadata: { ModifyIndex: 7 } }),
    };
    const source =
      '{{ with nomadVar "p" }}{{ .Path }} {{ .Items.user }} {{ .Metadata.ModifyIndex }}{{ end }}';
    assert.equal(await render(source, null, functions), 'p u 7');
  });
});

describe('calling functions', () => {
  test('arguments arrive converted to plain values', async () => {
    const received: unknown[][] = [];
    const functions: TemplateFunctions = {
      record: (...args: unknown[]) => {
        received.push(args);
        return 'ok';
      },
    };
    await render('{{ record 1 1.5 2.0 "s" .missing .n nil true . }}', { n: null }, functions);
    assert.deepEqual(received, [[1, 1.5, 2, 's', null, null, null, true, { n: null }]]);
  });

  test('pipeline value is the last argument', async () => {
    const functions: TemplateFunctions = { join: (...args: string[]) => args.join('+') };
    assert.equal(await render('{{ "c" | join "a" "b" }}', null, functions), 'a+b+c');
  });

  test('calls run one at a time in template order', async () => {
    const events: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const functions: TemplateFunctions = {
      slow: async (name: string) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        events.push(`start ${name}`);
        await later(null);
        events.push(`end ${name}`);
        inFlight--;
        return name;
      },
    };
    const output = await render(
      '{{ slow "a" }}{{ print (slow "b") (slow "c") }}{{ range . }}{{ slow . }}{{ end }}',
      ['d'],
      functions,
    );
    assert.equal(output, 'abcd');
    assert.equal(maxInFlight, 1);
    assert.deepEqual(events, [
      'start a',
      'end a',
      'start b',
      'end b',
      'start c',
      'end c',
      'start d',
      'end d',
    ]);
  });

  test('and and or do not call functions past the deciding argument', async () => {
    let calls = 0;
    const functions: TemplateFunctions = {
      count: () => {
        calls++;
        return true;
      },
    };
    assert.equal(await render('{{ or 1 (count) }}{{ and 0 (count) }}', null, functions), '10');
    assert.equal(calls, 0);
    assert.equal(await render('{{ or 0 (count) }}', null, functions), 'true');
    assert.equal(calls, 1);
  });

  test('undefined result prints no value', async () => {
    assert.equal(await render('{{ nothing }}', null, { nothing: () => undefined }), '<no value>');
  });

  test('caller function overrides a builtin', async () => {
    assert.equal(await render('{{ len "abc" }}', null, { len: () => 'mine' }), 'mine');
  });

  test('caller function named like an unsupported builtin is allowed', async () => {
    assert.equal(
      await render('{{ html "<b>" }}', null, { html: (text: string) => text.toUpperCase() }),
      '<B>',
    );
  });

  test('function with no arguments chains fields', async () => {
    assert.equal(await render('{{ config.port }}', null, { config: () => ({ port: 8080 }) }), '8080');
  });
});

describe('function failures', () => {
  test('thrown error fails the render at the action line', async () => {
    const cause = new Error('permission denied');
    const error = await renderError('first line\n\n  {{ nomadVar "x" }}', null, {
      nomadVar: async () => {
        await later(null);
        throw cause;
      },
    });
    assert.equal(error.code, 'FUNCTION_FAILED');
    assert.equal(error.line, 3);
    assert.equal(error.column, 6);
    assert.equal(error.functionName, 'nomadVar');
    assert.equal(error.cause, cause);
    assert.equal(error.reason, 'error calling nomadVar: permission denied');
  });

  test('synchronous throw of a non-error value', async () => {
    const error = await renderError('{{ boom }}', null, {
      boom: () => {
        throw 'plain string';
      },
    });
    assert.equal(error.code, 'FUNCTION_FAILED');
    assert.equal(error.cause, 'plain string');
    assert.ok(error.reason.endsWith('plain string'));
  });

  test('missing variable from nomadVar names the path', async () => {
    const error = await renderError('{{ with nomadVar "nope" }}{{ .a }}{{ end }}', null, nomadFunctions);
    assert.equal(error.code, 'FUNCTION_FAILED');
    assert.ok(error.reason.includes('"nope" not found'));
  });

  test('undefined function fails before any call or output', async () => {
    let calls = 0;
    const error = await renderError(
      '{{ env "A" }}\n{{ if false }}{{ nomadVarListSafe "p" }}{{ end }}',
      null,
      {
        env: () => {
          calls++;
          return '';
        },
      },
    );
    assert.equal(error.code, 'UNDEFINED_FUNCTION');
    assert.equal(error.functionName, 'nomadVarListSafe');
    assert.equal(error.line, 2);
    assert.equal(error.column, 18);
    assert.equal(calls, 0);
  });

  test('non-function entry is a TypeError', async () => {
    const functions = { notAFunction: 'x' } as unknown as TemplateFunctions;
    await assert.rejects(renderTemplate(parseTemplate('x', 't'), null, functions), TypeError);
  });
});

describe('abort', () => {
  test('abort during a pending call fails the render', async () => {
    const controller = new AbortController();
    let started!: () => void;
    const callStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const functions: TemplateFunctions = {
      nomadVar: () => {
        started();
        return new Promise(() => {});
      },
    };
    const rendering = render('{{ nomadVar "p" }}', null, functions, { signal: controller.signal });
    await callStarted;
    controller.abort(new Error('task stopping'));
    await assert.rejects(rendering, (error: unknown) => {
      assert.ok(error instanceof TemplateRenderError);
      assert.equal(error.code, 'ABORTED');
      assert.equal((error.cause as Error).message, 'task stopping');
      return true;
    });
  });

  test('signal aborted before render', async () => {
    const error = await renderError('text only', null, {}, { signal: AbortSignal.abort() });
    assert.equal(error.code, 'ABORTED');
  });

  test('abort stops a range', async () => {
    const controller = new AbortController();
    const functions: TemplateFunctions = {
      step: (i: number) => {
        if (i === 2) controller.abort();
        return i;
      },
    };
    const error = await renderError('{{ range . }}{{ step . }}{{ end }}', [1, 2, 3, 4], functions, {
      signal: controller.signal,
    });
    assert.equal(error.code, 'ABORTED');
  });
});
