import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../http/support/test-backend.js';

const execFileAsync = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source with a clean environment plus `env`. */
async function signet(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        env: { PATH: process.env.PATH ?? '', ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failure = err as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** Splits a table into rows of cells, dropping the header. */
function tableRows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('API commands', () => {
  let server: TestServer;
  let address: string;
  before(async () => {
    server = await startTestServer();
    address = `-address=${server.url}`;
  });
  after(async () => {
    await server.close();
  });

  test('list-peers prints a table', async () => {
    const result = await signet(['operator', 'raft', 'list-peers', address]);
    assert.equal(result.code, 0, result.stderr);
    const [header] = result.stdout.split('\n');
    assert.deepEqual(header!.split(/\s+/), ['Node', 'ID', 'Address', 'State', 'Voter', 'RaftProtocol']);
    assert.deepEqual(tableRows(result.stdout), [
      ['test-1', '101', '127.0.0.1:4647', 'leader', 'true', '3'],
      ['test-2', '102', '127.0.0.1:5647', 'follower', 'true', '3'],
      ['test-3', '103', '127.0.0.1:6647', 'follower', 'false', '3'],
    ]);
  });

  test('list-peers -stale skips the consistent read', async () => {
    const before = server.backend.consistentReads;
    const result = await signet(['operator', 'raft', 'list-peers', '-stale', '-address', server.url]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.backend.consistentReads, before);
  });

  test('address from SIGNET_ADDR and NOMAD_ADDR', async () => {
    for (const name of ['SIGNET_ADDR', 'NOMAD_ADDR']) {
      const result = await signet(['operator', 'raft', 'list-peers'], { [name]: server.url });
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
    }
  });

  test('transfer-leadership and remove-peer', async () => {
    const transfer = await signet(['operator', 'raft', 'transfer-leadership', address, '-peer-id', '102']);
    assert.equal(transfer.code, 0, transfer.stderr);
    const anyVoter = await signet(['operator', 'raft', 'transfer-leadership', address]);
    assert.equal(anyVoter.code, 0, anyVoter.stderr);
    assert.deepEqual(server.backend.transfers.slice(-2), ['102', null]);

    const remove = await signet(['operator', 'raft', 'remove-peer', address, '-peer-id=103']);
    assert.equal(remove.code, 0, remove.stderr);
    assert.deepEqual(server.backend.removedPeers, ['103']);

    const missing = await signet(['operator', 'raft', 'remove-peer', address]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: Missing peer: set -peer-id/);
    assert.equal(missing.stderr.trimEnd().split('\n').length, 1);
  });

  test('server members marks the leader', async () => {
    const result = await signet(['server', 'members', address]);
    assert.equal(result.code, 0, result.stderr);
    const rows = tableRows(result.stdout);
    assert.deepEqual(
      rows.map((row) => [row[0], row[4]]),
      [
        ['test-1', 'true'],
        ['test-2', 'false'],
      ],
    );

    const json = await signet(['server', 'members', address, '-json']);
    assert.equal(json.code, 0, json.stderr);
    const members = JSON.parse(json.stdout) as { Name: string; Status: string }[];
    assert.deepEqual(
      members.map((member) => member.Name),
      ['test-1', 'test-2'],
    );
  });

  test('namespace apply, list, status and delete', async () => {
    const created = await signet(['namespace', 'apply', address, '-description', 'Team B', 'team-b']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^Applied namespace "team-b" at index \d+\n$/);
    assert.equal(server.backend.state.namespace('team-b')?.Description, 'Team B');

    // Without -description, apply keeps the current description, as Nomad does.
    const reapplied = await signet(['namespace', 'apply', address, 'team-b']);
    assert.equal(reapplied.code, 0, reapplied.stderr);
    assert.equal(server.backend.state.namespace('team-b')?.Description, 'Team B');

    const list = await signet(['namespace', 'list', address]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(tableRows(list.stdout), [
      ['default', 'Default shared namespace'],
      ['team-b', 'Team B'],
    ]);

    const listJson = await signet(['namespace', 'list', address, '-json']);
    assert.deepEqual(
      (JSON.parse(listJson.stdout) as { Name: string }[]).map((entry) => entry.Name),
      ['default', 'team-b'],
    );

    const status = await signet(['namespace', 'status', address, 'team-b']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^Name += team-b$/m);
    assert.match(status.stdout, /^Description += Team B$/m);

    const statusJson = await signet(['namespace', 'status', '-json', address, 'team-b']);
    assert.equal((JSON.parse(statusJson.stdout) as { Name: string }).Name, 'team-b');

    const template = await signet([
      'namespace',
      'list',
      address,
      '-t',
      '{{range .}}{{.Name}}={{.Description}};{{end}}',
    ]);
    assert.equal(template.code, 0, template.stderr);
    assert.equal(template.stdout, 'default=Default shared namespace;team-b=Team B;\n');

    const statusTemplate = await signet(['namespace', 'status', address, '-t={{.Name}}', 'team-b']);
    assert.equal(statusTemplate.stdout, 'team-b\n');

    const deleted = await signet(['namespace', 'delete', address, 'team-b']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(server.backend.state.namespace('team-b'), null);
  });

  test('server errors exit 1 with one line', async () => {
    const missing = await signet(['namespace', 'status', address, 'nope']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(
      missing.stderr,
      /^Error: GET \/v1\/namespace\/nope failed with status 404: Namespace not found; check the ID, name or path\n$/,
    );

    const invalid = await signet(['namespace', 'apply', address, 'bad_name']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /status 400: Invalid namespace: Name must match/);
    assert.equal(invalid.stderr.trimEnd().split('\n').length, 1);
  });

  test('connection refused exits 1 naming the address', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const result = await signet(['namespace', 'list', `-address=http://127.0.0.1:${port}`]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
    assert.ok(result.stderr.includes(`http://127.0.0.1:${port}`), result.stderr);
    assert.match(result.stderr, /connection refused/);
    assert.match(result.stderr, /set by -address/);

    const fromEnv = await signet(['namespace', 'list'], { NOMAD_ADDR: `http://127.0.0.1:${port}` });
    assert.equal(fromEnv.code, 1);
    assert.match(fromEnv.stderr, /set by NOMAD_ADDR/);
  });

  test('-json and -t together fail', async () => {
    const result = await signet(['namespace', 'list', address, '-json', '-t', '{{.}}']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, 'Error: -json and -t cannot be used together: choose one output format\n');
  });

  test('template errors fail in one line', async () => {
    const before = server.backend.consistentReads;
    const syntax = await signet(['namespace', 'list', address, '-t', '{{range .}}{{.Name}']);
    assert.equal(syntax.code, 1);
    assert.equal(syntax.stdout, '');
    assert.match(syntax.stderr, /^Error: invalid -t template: template: -t:1:\d+: .+\n$/);
    // A template that does not parse stops the command before any request.
    assert.equal(server.backend.consistentReads, before);

    const render = await signet(['namespace', 'list', address, '-t', '{{index . "x"}}']);
    assert.equal(render.code, 1);
    assert.equal(render.stdout, '');
    assert.match(render.stderr, /^Error: cannot render the -t template: template: -t:1:\d+: .+\n$/);
  });

  test('help lists flags with one dash', async () => {
    const help = await signet(['namespace', 'list', '-help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^ {2}-address <url> /m);
    assert.match(help.stdout, /^ {2}-t <template> /m);
  });

  test('short -v and -help still work', async () => {
    const version = await signet(['-v']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
    const help = await signet(['namespace', '-help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /apply/);
  });
});
