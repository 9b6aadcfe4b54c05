import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { trustStoredTokens } from '../http/support/acl-api.js';
import { startTestServer, type TestServer } from '../http/support/test-backend.js';
import { type CliResult, parseKeyValues, parseTable, signet } from './support/run-signet.js';

const READ_DEFAULT = 'namespace "default" { policy = "read" }\n';

describe('acl commands', () => {
  let server: TestServer;
  let folder: string;
  let management: string;
  let rulesFile: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'signet-acl-cli-'));
    rulesFile = join(folder, 'read-default.hcl');
    await writeFile(rulesFile, READ_DEFAULT);
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    management = '';
  });
  afterEach(async () => {
    await server.close();
  });

  /** Runs `signet acl ...` against the test server, with the management token unless `token` is given. */
  function acl(
    args: string[],
    options: { token?: string | null; stdin?: string; env?: Record<string, string> } = {},
  ): Promise<CliResult> {
    trustStoredTokens(server.backend);
    const token = options.token === undefined ? management : options.token;
    const tokenArgs = token === null || token === '' ? [] : [`-token=${token}`];
    return signet(['acl', ...args, `-address=${server.url}`, ...tokenArgs], options);
  }

  async function bootstrap(): Promise<void> {
    const result = await acl(['bootstrap', '-json'], { token: null });
    assert.equal(result.code, 0, result.stderr);
    management = (JSON.parse(result.stdout) as { SecretID: string }).SecretID;
  }

  test('bootstrap prints the token once', async () => {
    const first = await acl(['bootstrap'], { token: null });
    assert.equal(first.code, 0, first.stderr);
    const fields = parseKeyValues(first.stdout);
    const stored = server.backend.state.aclTokens()[0]!;
    assert.equal(fields.get('Accessor ID'), stored.AccessorID);
    assert.equal(fields.get('Secret ID'), stored.SecretID);
    assert.equal(fields.get('Name'), 'Bootstrap Token');
    assert.equal(fields.get('Type'), 'management');
    assert.equal(fields.get('Global'), 'true');
    assert.equal(fields.get('Expiry Time'), '<none>');
    assert.equal(fields.get('Policies'), 'n/a');
    assert.equal(fields.get('Create Index'), String(stored.CreateIndex));

    const second = await acl(['bootstrap'], { token: null });
    assert.equal(second.code, 1);
    assert.equal(second.stdout, '');
    assert.ok(
      second.stderr.includes(`ACL bootstrap already done (reset index: ${stored.CreateIndex})`),
      second.stderr,
    );
  });

  test('bootstrap with a secret from stdin', async () => {
    const secret = randomUUID();
    const result = await acl(['bootstrap', '-json', '-'], { token: null, stdin: `${secret}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { SecretID: string }).SecretID, secret);
  });

  test('bootstrap ignores a stale token in the environment', async () => {
    for (const name of ['SIGNET_TOKEN', 'NOMAD_TOKEN']) {
      await server.close();
      server = await startTestServer({ aclEnabled: true });
      const result = await acl(['bootstrap', '-json'], { token: null, env: { [name]: randomUUID() } });
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      const { AccessorID } = JSON.parse(result.stdout) as { AccessorID: string };
      assert.notEqual(server.backend.state.aclToken(AccessorID), null, name);
    }
  });

  test('token create, info, list, update and delete', async () => {
    await bootstrap();
    assert.equal((await acl(['policy', 'apply', 'readonly', rulesFile])).code, 0);
    assert.equal((await acl(['policy', 'apply', 'other', rulesFile])).code, 0);

    const created = await acl([
      'token',
      'create',
      '-name=deploy',
      '-policy=readonly',
      '-policy',
      'other',
      '-ttl=1h',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const fields = parseKeyValues(created.stdout);
    const accessor = fields.get('Accessor ID')!;
    const stored = server.backend.state.aclToken(accessor)!;
    assert.equal(fields.get('Secret ID'), stored.SecretID);
    assert.equal(fields.get('Type'), 'client');
    assert.equal(fields.get('Policies'), '[readonly other]');
    assert.notEqual(fields.get('Expiry Time'), '<none>');
    assert.deepEqual(stored.Policies, ['readonly', 'other']);

    const info = await acl(['token', 'info', accessor]);
    assert.equal(info.code, 0, info.stderr);
    assert.equal(parseKeyValues(info.stdout).get('Name'), 'deploy');

    const listed = await acl(['token', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    const table = parseTable(listed.stdout);
    assert.deepEqual(table.header, ['Name', 'Type', 'Global', 'Accessor ID', 'Expired']);
    assert.deepEqual(
      table.rows.find((row) => row[3] === accessor),
      ['deploy', 'client', 'false', accessor, 'false'],
    );
    assert.equal(listed.stdout.includes(stored.SecretID), false);

    const updated = await acl(['token', 'update', '-name=renamed', '-policy=other', accessor]);
    assert.equal(updated.code, 0, updated.stderr);
    const after = server.backend.state.aclToken(accessor)!;
    assert.equal(after.Name, 'renamed');
    assert.deepEqual(after.Policies, ['other']);
    assert.equal(after.SecretID, stored.SecretID);
    assert.equal(after.ExpirationTime, stored.ExpirationTime);

    const deleted = await acl(['token', 'delete', accessor]);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `Token ${accessor} successfully deleted\n`);
    assert.equal(server.backend.state.aclToken(accessor), null);
  });

  test('token self and a denied list', async () => {
    await bootstrap();
    await acl(['policy', 'apply', 'readonly', rulesFile]);
    const created = await acl(['token', 'create', '-policy=readonly', '-json']);
    const secret = (JSON.parse(created.stdout) as { SecretID: string }).SecretID;

    const self = await acl(['token', 'self'], { token: secret });
    assert.equal(self.code, 0, self.stderr);
    assert.equal(parseKeyValues(self.stdout).get('Secret ID'), secret);

    const fromEnv = await acl(['token', 'self', '-json'], { token: null, env: { NOMAD_TOKEN: secret } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);

    const denied = await acl(['token', 'list'], { token: secret });
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stderr,
      'Error: GET /v1/acl/tokens failed with status 403: Permission denied: a management token is required; ' +
        'the token set by -token lacks it: use a token whose policies grant it\n',
    );
    assert.ok(!denied.stderr.includes(secret));

    const anonymous = await acl(['token', 'list'], { token: null });
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /; no token was sent: set -token, SIGNET_TOKEN or NOMAD_TOKEN\n$/);

    const template = await acl(['token', 'self', '-t', '{{.Type}} {{index .Policies 0}}'], { token: secret });
    assert.equal(template.code, 0, template.stderr);
    assert.equal(template.stdout, 'client readonly\n');
  });

  test('denied job read names the capability', async () => {
    await bootstrap();
    const nodeOnly = join(folder, 'node-read.hcl');
    await writeFile(nodeOnly, 'node { policy = "read" }\n');
    await acl(['policy', 'apply', 'node-read', nodeOnly]);
    const created = await acl(['token', 'create', '-policy=node-read', '-json']);
    const secret = (JSON.parse(created.stdout) as { SecretID: string }).SecretID;

    trustStoredTokens(server.backend);
    const denied = await signet(['job', 'status', `-address=${server.url}`], {
      env: { NOMAD_TOKEN: secret },
    });
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stderr,
      'Error: GET /v1/jobs failed with status 403: Permission denied: missing capability "list-jobs" in namespace "default"; ' +
        'the token set by NOMAD_TOKEN lacks it: use a token whose policies grant it\n',
    );
  });

  test('token create rejects bad input', async () => {
    await bootstrap();
    const result = await acl(['token', 'create', '-type=client']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /client token missing policies/);
    const ttl = await acl(['token', 'create', '-type=management', '-ttl=10s']);
    assert.equal(ttl.code, 1);
    assert.match(ttl.stderr, /cannot be less than 1m0s/);
    assert.equal(server.backend.state.aclTokens().length, 1);
  });

  test('policy apply, info, list and delete', async () => {
    await bootstrap();
    const applied = await acl(['policy', 'apply', '-description=read jobs', 'readonly', rulesFile]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout, 'Successfully wrote "readonly" ACL policy!\n');
    const stored = server.backend.state.aclPolicy('readonly')!;
    assert.equal(stored.Rules, READ_DEFAULT);
    assert.equal(stored.Description, 'read jobs');
    assert.equal(stored.JobACL, null);

    const fromStdin = await acl(['policy', 'apply', 'stdin-policy', '-'], {
      stdin: 'node { policy = "read" }',
    });
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(server.backend.state.aclPolicy('stdin-policy')?.Rules, 'node { policy = "read" }');

    const info = await acl(['policy', 'info', 'readonly']);
    assert.equal(info.code, 0, info.stderr);
    const fields = parseKeyValues(info.stdout);
    assert.equal(fields.get('Name'), 'readonly');
    assert.equal(fields.get('Description'), 'read jobs');
    assert.equal(fields.get('ModifyIndex'), String(stored.ModifyIndex));
    assert.ok(info.stdout.endsWith(`\nRules\n\n${READ_DEFAULT}`), info.stdout);
    assert.equal(info.stdout.includes('Associated Workload'), false);

    const listed = await acl(['policy', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    const table = parseTable(listed.stdout);
    assert.deepEqual(table.header, ['Name', 'Description']);
    assert.deepEqual(table.rows, [['readonly', 'read jobs'], ['stdin-policy']]);

    const names = await acl(['policy', 'list', '-t', '{{range .}}{{.Name}} {{end}}']);
    assert.equal(names.stdout, 'readonly stdin-policy \n');
    const rules = await acl(['policy', 'info', 'stdin-policy', '-t', '{{.Rules}}']);
    assert.equal(rules.stdout, 'node { policy = "read" }\n');

    const deleted = await acl(['policy', 'delete', 'readonly']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, 'Successfully deleted "readonly" ACL policy!\n');
    assert.equal(server.backend.state.aclPolicy('readonly'), null);
  });

  test('policy apply tied to a task', async () => {
    await bootstrap();
    const args = [
      'policy',
      'apply',
      '-namespace=default',
      '-job=example',
      '-group=cache',
      '-task=redis',
      'redis',
      rulesFile,
    ];
    const result = await acl(args);
    assert.equal(result.code, 0, result.stderr);
    const jobAcl = { Namespace: 'default', JobID: 'example', Group: 'cache', Task: 'redis' };
    assert.deepEqual(server.backend.state.aclPolicy('redis')?.JobACL, jobAcl);

    const info = await acl(['policy', 'info', 'redis']);
    const workload = info.stdout.slice(info.stdout.indexOf('Associated Workload'));
    const fields = parseKeyValues(workload.slice(0, workload.indexOf('Rules')));
    assert.deepEqual(Object.fromEntries(fields), {
      Namespace: 'default',
      JobID: 'example',
      Group: 'cache',
      Task: 'redis',
    });
  });

  test('policy apply checks the job flags', async () => {
    await bootstrap();
    const cases: [string[], string][] = [
      [['-job=example'], '-namespace is required if -job is set'],
      [['-namespace=default', '-group=cache'], '-job is required if -group is set'],
      [['-namespace=default', '-job=example', '-task=redis'], '-group is required if -task is set'],
    ];
    for (const [flags, message] of cases) {
      const result = await acl(['policy', 'apply', ...flags, 'tied', rulesFile]);
      assert.equal(result.code, 1, flags.join(' '));
      assert.equal(result.stderr, `Error: ${message}\n`);
    }
    // The environment's namespace never replaces the flag.
    const fromEnv = await acl(['policy', 'apply', '-job=example', 'tied', rulesFile], {
      env: { NOMAD_NAMESPACE: 'default', SIGNET_NAMESPACE: 'default' },
    });
    assert.equal(fromEnv.code, 1);
    assert.equal(server.backend.state.aclPolicy('tied'), null);

    const namespaceOnly = await acl(['policy', 'apply', '-namespace=default', 'tied', rulesFile]);
    assert.equal(namespaceOnly.code, 0, namespaceOnly.stderr);
    assert.deepEqual(server.backend.state.aclPolicy('tied')?.JobACL, {
      Namespace: 'default',
      JobID: '',
      Group: '',
      Task: '',
    });
  });

  test('policy apply rejects invalid rules', async () => {
    await bootstrap();
    const result = await acl(['policy', 'apply', 'broken', '-'], {
      stdin: 'namespace "default" { policy = "reed" }',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /status 400: invalid ACL policy broken: .*Invalid namespace policy/);
    assert.equal(server.backend.state.aclPolicy('broken'), null);

    const missing = await acl(['policy', 'apply', 'missing', join(folder, 'nope.hcl')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read the policy rules from .*nope\.hcl: file not found/);
  });
});
