import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { RootKeyListEntry } from '../../src/http/routes/keyring.js';
import { placeAllocationSignedWith } from '../http/support/keyring-fixtures.js';
import { startTestServer, type TestServer, waitUntil } from '../http/support/test-backend.js';

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
      { env: { PATH: process.env.PATH ?? '', ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failure = err as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** Splits a table into its header cells and rows of cells. */
function parseTable(stdout: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
  return { header: header!, rows };
}

describe('operator root keyring commands', () => {
  let server: TestServer;
  let address: string;
  beforeEach(async () => {
    if (server !== undefined) await server.close();
    server = await startTestServer();
    address = `-address=${server.url}`;
  });
  after(async () => {
    await server.close();
  });

  const keyring = (...args: string[]): Promise<CliResult> =>
    signet(['operator', 'root', 'keyring', ...args, address]);

  test('list without keys', async () => {
    const result = await keyring('list');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'No root keys found\n');
  });

  test('rotate prints the new key', async () => {
    const result = await keyring('rotate');
    assert.equal(result.code, 0, result.stderr);
    const [key] = server.backend.rootKeys();
    const { header, rows } = parseTable(result.stdout);
    assert.deepEqual(header, ['Key', 'State', 'Create Time']);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]![0], key!.KeyID.slice(0, 8));
    assert.equal(rows[0]![1], 'active');
    assert.match(rows[0]![2]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const verbose = await keyring('rotate', '-verbose');
    assert.equal(verbose.code, 0, verbose.stderr);
    const newest = server.backend.rootKeys().find((candidate) => candidate.State === 'active')!;
    assert.equal(parseTable(verbose.stdout).rows[0]![0], newest.KeyID);
  });

  test('rotate -full -detach marks the old key rekeying', async () => {
    const old = await server.backend.rotateRootKey(false);
    const result = await keyring('rotate', '-full', '-detach');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(parseTable(result.stdout).rows.length, 1);
    const demoted = server.backend.rootKeys().find((key) => key.KeyID === old.Key.KeyID);
    assert.equal(demoted?.State, 'rekeying');
  });

  /** Writes a variable under the active key, as `var put` does. */
  async function writeVariable(path: string, value: string): Promise<void> {
    const result = await server.backend.variables.write(
      { namespace: 'default', path, casIndex: null, items: { value } },
      false,
    );
    assert.ok(result.ok);
  }

  test('rotate -full follows the rekey', async () => {
    const old = await server.backend.rotateRootKey(false);
    for (const path of ['app/a', 'app/b', 'app/c']) await writeVariable(path, 'before');

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'operator', 'root', 'keyring', 'rotate', '-full', address],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const oldShort = old.Key.KeyID.slice(0, 8);
    const progress = (left: string): string => `    key "${oldShort}": ${left} left\n`;

    // Each write moves one variable to the new key, as the leader's rekey entries do, and the CLI
    // prints the count that remains after each one.
    await waitUntil(() => stdout.includes(progress('3 variables')), 'the first count', 20_000);
    await writeVariable('app/a', 'after');
    await waitUntil(() => stdout.includes(progress('2 variables')), 'the count after one', 20_000);
    await writeVariable('app/b', 'after');
    await writeVariable('app/c', 'after');
    await waitUntil(() => stdout.includes(progress('0 variables')), 'the count after all', 20_000);
    await server.backend.apply({ type: 'root-key-state', v: 1, keyId: old.Key.KeyID, state: 'inactive' });
    assert.equal(await exited, 0, stdout);

    const lines = stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(2, 4), [
      '==> Re-encrypting the variables of 1 rekeying key under the new key',
      '    The leader starts at its next keyring pass, within server.root_key_gc_interval (10m by default)',
    ]);
    // One line per change and no carriage returns, because stdout is not a terminal.
    assert.ok(!stdout.includes('\r'));
    const counts = lines.filter((line) => line.startsWith(`    key "${oldShort}": `));
    assert.equal(new Set(counts).size, counts.length, stdout);
    assert.deepEqual(lines.slice(-2), [
      `    key "${oldShort}" is inactive`,
      '==> Every old key is inactive: all variables are encrypted under the new key',
    ]);
  });

  test('rotate -full deadline stops following', async () => {
    await server.backend.rotateRootKey(false);
    await writeVariable('app/a', 'before');
    const result = await keyring('rotate', '-full', '-monitor-timeout=1s');
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout.trimEnd().split('\n').at(-1)!,
      /^==> Stopped following after -monitor-timeout 1s \(key "[0-9a-f]{8}": 1 variable left\); the leader goes on/,
    );
  });

  test('rotate -full without an old key', async () => {
    const result = await keyring('rotate', '-full');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trimEnd().split('\n').slice(2), [
      '    No older key to re-encrypt',
      '==> Every old key is inactive: all variables are encrypted under the new key',
    ]);
  });

  test('list shows short or full ids', async () => {
    const old = await server.backend.rotateRootKey(false);
    const current = await server.backend.rotateRootKey(false);

    const short = await keyring('list');
    assert.equal(short.code, 0, short.stderr);
    assert.deepEqual(
      parseTable(short.stdout).rows.map((row) => [row[0], row[1]]),
      [
        [old.Key.KeyID.slice(0, 8), 'inactive'],
        [current.Key.KeyID.slice(0, 8), 'active'],
      ],
    );

    const verbose = await keyring('list', '-verbose');
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.deepEqual(
      parseTable(verbose.stdout).rows.map((row) => row[0]),
      [old.Key.KeyID, current.Key.KeyID],
    );
  });

  test('list -json prints the metadata', async () => {
    const old = await server.backend.rotateRootKey(false);
    await writeVariable('app/a', 'under the old key');
    await server.backend.rotateRootKey(false);
    const result = await keyring('list', '-json');
    assert.equal(result.code, 0, result.stderr);
    // EncryptedVariables is Signet's addition to Nomad's key metadata.
    assert.deepEqual(
      JSON.parse(result.stdout) as RootKeyListEntry[],
      server.backend.rootKeys().map((meta) => ({
        ...meta,
        EncryptedVariables: meta.KeyID === old.Key.KeyID ? 1 : 0,
      })),
    );

    const template = await keyring('list', '-t', '{{range .}}{{.State}}:{{.EncryptedVariables}} {{end}}');
    assert.equal(template.code, 0, template.stderr);
    assert.equal(template.stdout, 'inactive:1 active:0 \n');
  });

  test('remove by id and by prefix', async () => {
    const first = await server.backend.rotateRootKey(false);
    const second = await server.backend.rotateRootKey(false);
    await server.backend.rotateRootKey(false);

    const byId = await keyring('remove', first.Key.KeyID);
    assert.equal(byId.code, 0, byId.stderr);
    assert.equal(byId.stdout, `Removed encryption key ${first.Key.KeyID}\n`);

    const byPrefix = await keyring('remove', second.Key.KeyID.slice(0, 8));
    assert.equal(byPrefix.code, 0, byPrefix.stderr);
    assert.equal(byPrefix.stdout, `Removed encryption key ${second.Key.KeyID}\n`);
    assert.equal(server.backend.rootKeys().length, 1);
  });

  test('remove an unknown prefix fails', async () => {
    await server.backend.rotateRootKey(false);
    const result = await keyring('remove', 'zzzz');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Error: No root key with prefix or id "zzzz" found\n$/);
  });

  test('remove the active key prints the server message', async () => {
    const active = await server.backend.rotateRootKey(false);
    const expected = await fetch(`${server.url}/v1/operator/keyring/key/${active.Key.KeyID}`, {
      method: 'DELETE',
    });
    assert.equal(expected.status, 400);
    const serverMessage = await expected.text();

    const result = await keyring('remove', active.Key.KeyID);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
    assert.ok(result.stderr.includes(serverMessage), result.stderr);
    assert.equal(server.backend.rootKeys().length, 1);
  });

  test('remove -force removes a key in use', async () => {
    const old = await server.backend.rotateRootKey(false);
    await server.backend.rotateRootKey(false);
    await placeAllocationSignedWith(server.backend, server.url, old.Key.KeyID);

    const rejected = await keyring('remove', old.Key.KeyID);
    assert.equal(rejected.code, 1);
    assert.match(rejected.stderr, /status 400/);

    const forced = await keyring('remove', old.Key.KeyID, '-force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(server.backend.rootKeys().length, 1);
  });

  test('token from env and flag', async () => {
    const token = 'f3c1d8a2-6b0e-4c1f-9e2d-7a5b4c3d2e1f';
    server.backend.principals.set(token, { kind: 'acl-token', secretId: token });
    const accepted = await signet(['operator', 'root', 'keyring', 'list', address], { NOMAD_TOKEN: token });
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.deepEqual(server.backend.authenticatedTokens, [token]);

    const denied = await keyring('list', '-token', 'not-a-valid-token');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /status 403: Permission denied; check the token set by -token\n$/);
  });
});
