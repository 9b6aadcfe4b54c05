import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readArchiveFile } from '../../src/server/snapshot/archive-file.js';
import type { AclToken } from '../../src/state/store.js';
import { parseKeyValues, signet } from '../cli/support/run-signet.js';
import { startTestServer, type TestServer } from '../http/support/test-backend.js';
import { accessorId, makeToken, secretId } from '../server/acl/support.js';
import { loadRaftFolder, removeDir, tempDir } from './support.js';

const MANAGEMENT = secretId(1);

describe('operator snapshot and recover commands', () => {
  let server: TestServer;
  let dir: string;

  before(async () => {
    dir = await tempDir('snapshot-cli');
    server = await startTestServer({ aclEnabled: true });
    const { backend } = server;
    const tokens: AclToken[] = [
      makeToken({ AccessorID: accessorId(1), SecretID: MANAGEMENT, Type: 'management', Policies: [] }),
    ];
    await backend.apply({ type: 'acl-token-upsert', v: 1, tokens });
    backend.principals.set(MANAGEMENT, { kind: 'acl-token', secretId: MANAGEMENT });
    for (const name of ['web', 'batch']) {
      await backend.apply({
        type: 'namespace-upsert',
        v: 1,
        namespace: { Name: name, Description: '', Meta: null },
      });
    }
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  /** Saves a snapshot of the test server to `file` with the management token and checks the exit code. */
  async function save(file: string): Promise<string> {
    const run = await signet([
      'operator',
      'snapshot',
      'save',
      `-address=${server.url}`,
      `-token=${MANAGEMENT}`,
      file,
    ]);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout;
  }

  test('save writes a checked file readable only by its owner', async () => {
    const file = join(dir, 'save', 'backup.snap');
    await mkdir(join(dir, 'save'));
    const stdout = await save(file);
    const index = server.backend.state.latestIndex;
    assert.match(stdout, new RegExp(`^State file written to .*backup\\.snap \\(index ${index}, term 3, `));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(join(dir, 'save')), ['backup.snap'], 'no temporary file is left');

    const checked = await readArchiveFile(file);
    assert.equal(checked.archive.header.index, index);
    assert.equal(checked.summary.rows.namespaces, 3);
  });

  test('save takes the token from NOMAD_TOKEN and replaces the file', async () => {
    const file = join(dir, 'replaced.snap');
    await writeFile(file, 'old contents');
    const run = await signet(['operator', 'snapshot', 'save', '-stale', file], {
      env: { NOMAD_ADDR: server.url, NOMAD_TOKEN: MANAGEMENT },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await readArchiveFile(file)).archive.header.index, server.backend.state.latestIndex);
  });

  test('save without a token fails and writes nothing', async () => {
    await mkdir(join(dir, 'denied'));
    const file = join(dir, 'denied', 'backup.snap');
    const run = await signet(['operator', 'snapshot', 'save', `-address=${server.url}`, file]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^Error: GET \/v1\/operator\/snapshot failed with status 403: Permission denied/,
    );
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, 'one line');
    assert.deepEqual(await readdir(join(dir, 'denied')), []);
  });

  test('save to an unreachable address names it', async () => {
    const run = await signet(['operator', 'snapshot', 'save', '-address=127.0.0.1:1', join(dir, 'x.snap')]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Cannot reach the Signet API at http:\/\/127\.0\.0\.1:1/);
  });

  test('inspect prints index, checksum and table rows', async () => {
    const file = join(dir, 'inspect.snap');
    await save(file);

    const text = await signet(['operator', 'snapshot', 'inspect', file]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^Index +=+ ${server.backend.state.latestIndex}$`, 'm'));
    assert.match(text.stdout, /^Checksum += ok \(SHA-256 [0-9a-f]{64}\)$/m);
    assert.match(text.stdout, /^Voters += 101, 102$/m);
    assert.match(text.stdout, /^namespaces +3$/m);
    assert.match(text.stdout, /^aclTokens +1$/m);

    const json = await signet(['operator', 'snapshot', 'inspect', '-json', file]);
    assert.equal(json.code, 0, json.stderr);
    const details = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(details.Index, server.backend.state.latestIndex);
    assert.equal(details.ChecksumOK, true);
    assert.deepEqual((details.Tables as Record<string, number>).namespaces, 3);
  });

  test('inspect of a damaged file fails naming it', async () => {
    const file = join(dir, 'damaged.snap');
    await save(file);
    const bytes = await readFile(file);
    bytes[bytes.length - 1]! ^= 0x01;
    await writeFile(file, bytes);

    const run = await signet(['operator', 'snapshot', 'inspect', file]);
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^Error: snapshot file .*damaged\.snap is damaged: the state's SHA-256 is [0-9a-f]{64}, but the header records/,
    );
  });

  test('recover restores a saved file into an empty folder', async () => {
    const file = join(dir, 'restore.snap');
    await save(file);
    const dataDir = join(dir, 'restored');
    await mkdir(dataDir);

    const run = await signet(['operator', 'raft', 'recover', `-data-dir=${dataDir}`, `-snapshot=${file}`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /this server is now the only voter of a new configuration/);
    assert.match(run.stdout, new RegExp(`^Index +=+ ${server.backend.state.latestIndex + 1}$`, 'm'));
    assert.match(run.stdout, /^Removed servers += 101, 102, 103$/m);
    const durable = await loadRaftFolder(dataDir);
    assert.equal(durable.snapshot?.meta.index, server.backend.state.latestIndex + 1);
  });

  test('recover refuses a missing folder', async () => {
    const missing = join(dir, 'no-such-folder');
    const run = await signet(['operator', 'raft', 'recover', '-data-dir', missing]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^Error: \[DATA_DIR_MISSING\] /);
    assert.ok(run.stderr.includes(missing), 'the message names the folder');
  });

  test('recover dry run prints the log position and writes nothing', async () => {
    const file = join(dir, 'dry-run.snap');
    await save(file);
    const dataDir = join(dir, 'dry-run');
    await mkdir(dataDir);

    const run = await signet([
      'operator',
      'raft',
      'recover',
      `-data-dir=${dataDir}`,
      `-snapshot=${file}`,
      '-dry-run',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const values = parseKeyValues(run.stdout);
    assert.equal(values.get('Last log term'), '0');
    assert.equal(values.get('Last log index'), '0');
    assert.equal(values.get('Commit index'), '0');
    assert.equal(values.get('Index'), String(server.backend.state.latestIndex + 1));
    assert.equal(values.get('Server ID'), '<new>');
    assert.match(run.stdout, /^Dry run, nothing written/m);
    assert.deepEqual(await readdir(dataDir), []);
  });

  test('snapshot restore points to offline recovery', async () => {
    const run = await signet(['operator', 'snapshot', 'restore', 'backup.snap']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /operator raft recover -data-dir DIR -snapshot backup\.snap/);
  });
});
