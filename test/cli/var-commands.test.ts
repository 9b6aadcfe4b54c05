import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { VariableDecrypted, VariableMetadata } from '../../src/server/variables/variable-shapes.js';
import { startTestServer, type TestServer } from '../http/support/test-backend.js';
import { type CliResult, parseKeyValues, parseTable, signet } from './support/run-signet.js';

describe('var commands', () => {
  let server: TestServer;
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'signet-var-cli-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server = await startTestServer();
    await server.backend.rotateRootKey(false);
  });
  afterEach(async () => {
    await server.close();
  });

  function variable(
    args: string[],
    options: { stdin?: string; env?: Record<string, string> } = {},
  ): Promise<CliResult> {
    return signet(['var', ...args, `-address=${server.url}`], options);
  }

  async function decrypted(namespace: string, path: string): Promise<VariableDecrypted | null> {
    const row = server.backend.state.variable(namespace, path);
    return row === null ? null : server.backend.variables.decrypt(row);
  }

  test('put, get and purge', async () => {
    const put = await variable(['put', 'app/db', 'user=admin', 'password=s3cret=with=equals']);
    assert.equal(put.code, 0, put.stderr);
    const stored = await decrypted('default', 'app/db');
    assert.deepEqual(stored?.Items, { user: 'admin', password: 's3cret=with=equals' });
    assert.equal(put.stdout, `Created variable "app/db" with modify index ${stored!.ModifyIndex}\n`);

    const get = await variable(['get', 'app/db']);
    assert.equal(get.code, 0, get.stderr);
    const [head, items] = get.stdout.split('\nItems\n');
    const fields = parseKeyValues(head!);
    assert.equal(fields.get('Namespace'), 'default');
    assert.equal(fields.get('Path'), 'app/db');
    assert.equal(fields.get('Check Index'), String(stored!.ModifyIndex));
    assert.deepEqual(Object.fromEntries(parseKeyValues(items!)), {
      password: 's3cret=with=equals',
      user: 'admin',
    });

    const item = await variable(['get', '-item=user', 'app/db']);
    assert.equal(item.stdout, 'admin\n');
    const json = await variable(['get', '-json', 'app/db']);
    assert.deepEqual(JSON.parse(json.stdout) as VariableDecrypted, stored);

    const updated = await variable(['put', 'app/db', 'user=root']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /^Updated variable "app\/db" with modify index \d+\n$/);

    const purge = await variable(['purge', 'app/db']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(purge.stdout, 'Successfully purged variable "app/db"!\n');
    assert.equal(server.backend.state.variable('default', 'app/db'), null);

    const missing = await variable(['get', 'app/db']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /status 404: variable not found/);
  });

  test('put from a spec file, a value file and stdin', async () => {
    const spec = join(folder, 'spec.json');
    await writeFile(spec, JSON.stringify({ Items: { a: 'from-spec', b: 'from-spec' } }));
    const certificate = join(folder, 'cert.pem');
    await writeFile(certificate, '-----BEGIN CERTIFICATE-----\nabc\n');

    const result = await variable(['put', 'app/tls', `@${spec}`, 'b=override', `cert=@${certificate}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((await decrypted('default', 'app/tls'))?.Items, {
      a: 'from-spec',
      b: 'override',
      cert: '-----BEGIN CERTIFICATE-----\nabc\n',
    });

    const fromStdin = await variable(['put', 'app/stdin', '-'], { stdin: '{"Items": {"k": "v"}}' });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.deepEqual((await decrypted('default', 'app/stdin'))?.Items, { k: 'v' });

    const bad = await variable(['put', 'app/bad', 'no-equals-sign-secret']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid item argument 1 after the path/);
    assert.equal(bad.stderr.includes('no-equals-sign-secret'), false);
  });

  test('put keeps an item named __proto__', async () => {
    const fromArgs = await variable(['put', 'app/proto', '__proto__=x', 'user=admin']);
    assert.equal(fromArgs.code, 0, fromArgs.stderr);
    const stored = (await decrypted('default', 'app/proto'))!.Items;
    assert.deepEqual(Object.keys(stored).sort(), ['__proto__', 'user']);
    assert.equal(Object.hasOwn(stored, '__proto__'), true);
    assert.equal(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value, 'x');

    const spec = join(folder, 'proto-spec.json');
    await writeFile(spec, '{"Items": {"__proto__": "from-spec", "a": "b"}}');
    const fromSpec = await variable(['put', 'app/proto-spec', `@${spec}`]);
    assert.equal(fromSpec.code, 0, fromSpec.stderr);
    const fromFile = (await decrypted('default', 'app/proto-spec'))!.Items;
    assert.deepEqual(Object.keys(fromFile).sort(), ['__proto__', 'a']);
    assert.equal(Object.getOwnPropertyDescriptor(fromFile, '__proto__')?.value, 'from-spec');
  });

  test('check index guards put and purge', async () => {
    const created = await variable(['put', '-check-index=0', 'app/db', 'v=1']);
    assert.equal(created.code, 0, created.stderr);
    const index = server.backend.state.variable('default', 'app/db')!.ModifyIndex;

    const conflict = await variable(['put', '-check-index=0', 'app/db', 'v=2']);
    assert.equal(conflict.code, 1);
    assert.equal(
      conflict.stderr,
      `Error: check-and-set conflict on variable "app/db": its modify index is ${index}, not 0; read it with signet var get and retry\n`,
    );
    assert.equal(conflict.stderr.includes('"v"'), false);

    const stalePurge = await variable(['purge', `-check-index=${index + 5}`, 'app/db']);
    assert.equal(stalePurge.code, 1);
    assert.match(stalePurge.stderr, /its modify index is \d+, not \d+/);
    assert.ok(server.backend.state.variable('default', 'app/db') !== null);

    const updated = await variable(['put', `-check-index=${index}`, 'app/db', 'v=2']);
    assert.equal(updated.code, 0, updated.stderr);
    assert.deepEqual((await decrypted('default', 'app/db'))?.Items, { v: '2' });

    const absent = await variable(['put', '-check-index=3', 'app/none', 'v=1']);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /it does not exist, but -check-index is 3/);

    const invalid = await variable(['put', '-check-index=soon', 'app/db', 'v=3']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /invalid -check-index "soon"/);
  });

  test('list in one namespace and in all', async () => {
    await callNamespace('prod');
    for (const [path, namespace] of [
      ['app/db', 'default'],
      ['app/cache', 'default'],
      ['other', 'default'],
      ['app/db', 'prod'],
    ] as const) {
      const result = await variable(['put', `-namespace=${namespace}`, path, 'k=v']);
      assert.equal(result.code, 0, result.stderr);
    }

    const listed = await variable(['list', 'app/']);
    assert.equal(listed.code, 0, listed.stderr);
    const table = parseTable(listed.stdout);
    assert.deepEqual(table.header, ['Path', 'Last Updated']);
    assert.deepEqual(
      table.rows.map((row) => row[0]),
      ['app/cache', 'app/db'],
    );

    const terse = await variable(['list', '-out=terse']);
    assert.equal(terse.stdout, 'app/cache\napp/db\nother\n');

    const all = await variable(['list', '-namespace=*']);
    assert.deepEqual(parseTable(all.stdout).header, ['Namespace', 'Path', 'Last Updated']);
    assert.equal(parseTable(all.stdout).rows.length, 4);

    const fromEnv = await variable(['list', '-json'], { env: { NOMAD_NAMESPACE: 'prod' } });
    assert.deepEqual(
      (JSON.parse(fromEnv.stdout) as VariableMetadata[]).map((entry) => `${entry.Namespace}/${entry.Path}`),
      ['prod/app/db'],
    );

    const none = await variable(['list', 'nothing/']);
    assert.equal(none.stdout, 'No matching variables found\n');

    const template = await variable(['list', '-t', '{{range .}}{{.Path}},{{end}}', 'app/']);
    assert.equal(template.code, 0, template.stderr);
    assert.equal(template.stdout, 'app/cache,app/db,\n');
    const nomadForm = await variable(['list', '-out=go-template', '-template={{len .}}']);
    assert.equal(nomadForm.stdout, '3\n');
  });

  test('get and put with templates', async () => {
    const put = await variable(['put', '-t', '{{.Path}}@{{.ModifyIndex}}', 'app/db', 'user=admin']);
    assert.equal(put.code, 0, put.stderr);
    const stored = server.backend.state.variable('default', 'app/db')!;
    assert.equal(put.stdout, `app/db@${stored.ModifyIndex}\n`);

    const get = await variable(['get', '-template', '{{.Items.user}}', 'app/db']);
    assert.equal(get.stdout, 'admin\n');

    const cases: [string[], string][] = [
      [
        ['-json', '-t', '{{.}}'],
        '-json and -template (-t) cannot be used together: choose one output format',
      ],
      [['-out=go-template'], '-out go-template needs the template in -template (or -t)'],
      [['-out=json', '-t', '{{.}}'], '-template (-t) needs -out go-template, not -out json'],
    ];
    for (const [flags, message] of cases) {
      const result = await variable(['get', ...flags, 'app/db']);
      assert.equal(result.code, 1, flags.join(' '));
      assert.equal(result.stderr, `Error: ${message}\n`);
    }
  });

  async function callNamespace(name: string): Promise<void> {
    const response = await fetch(`${server.url}/v1/namespace/${name}`, {
      method: 'PUT',
      body: JSON.stringify({ Name: name }),
    });
    assert.equal(response.status, 200);
  }
});
