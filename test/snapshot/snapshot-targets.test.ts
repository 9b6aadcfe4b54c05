import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { lstat, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AclToken } from '../../src/state/store.js';
import { type CliResult, signet } from '../cli/support/run-signet.js';
import { startTestServer, type TestServer } from '../http/support/test-backend.js';
import { accessorId, makeToken, secretId } from '../server/acl/support.js';
import { archiveOf, membership, removeDir, stateWith, tempDir } from './support.js';

const MANAGEMENT = secretId(1);
const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');
// An absolute loader URL, so that the CLI also starts from a working folder outside the repository.
const TSX = import.meta.resolve('tsx');
/** Time after which a CLI run counts as hung and is killed. */
const HUNG_AFTER_MS = 30_000;

/**
 * Runs the CLI from source in `cwd`, with only PATH in its environment, and kills it when it runs
 * longer than HUNG_AFTER_MS (then `code` is -1).
 */
function runSignetIn(cwd: string, args: readonly string[]): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), HUNG_AFTER_MS);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

function makeFifo(path: string): void {
  const mkfifo = spawnSync('mkfifo', [path]);
  assert.equal(mkfifo.status, 0, 'mkfifo is needed for this test');
}

describe('snapshot save and recover targets', () => {
  let server: TestServer;
  let dir: string;

  before(async () => {
    dir = await tempDir('snapshot-targets');
    server = await startTestServer({ aclEnabled: true });
    const tokens: AclToken[] = [
      makeToken({ AccessorID: accessorId(1), SecretID: MANAGEMENT, Type: 'management', Policies: [] }),
    ];
    await server.backend.apply({ type: 'acl-token-upsert', v: 1, tokens });
    server.backend.principals.set(MANAGEMENT, { kind: 'acl-token', secretId: MANAGEMENT });
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  function save(target: string): Promise<CliResult> {
    return signet(['operator', 'snapshot', 'save', `-address=${server.url}`, `-token=${MANAGEMENT}`, target]);
  }

  // `save /dev/null` run as root renamed the archive over /dev/null: the device became a regular
  // file with every token secret in it. A FIFO in a temporary folder replaces the device in this test.
  test('save rejects a FIFO target', async () => {
    const folder = join(dir, 'fifo-target');
    await mkdir(folder);
    const fifo = join(folder, 'pipe');
    makeFifo(fifo);

    const run = await save(fifo);

    assert.equal(run.code, 1, run.stdout);
    assert.ok((await stat(fifo)).isFIFO(), 'the FIFO is still a FIFO');
    assert.deepEqual(await readdir(folder), ['pipe'], 'no temporary file is left');
  });

  test('save rejects a symlink target', async () => {
    const folder = join(dir, 'link-target');
    await mkdir(folder);
    const fifo = join(folder, 'pipe');
    makeFifo(fifo);
    const link = join(folder, 'link');
    await symlink(fifo, link);

    const run = await save(link);

    assert.equal(run.code, 1, run.stdout);
    assert.ok((await lstat(link)).isSymbolicLink(), 'the symlink is still a symlink');
    assert.ok((await stat(fifo)).isFIFO(), 'its target is still a FIFO');
  });

  // `-data-dir "$DATA_DIR"` with an unset variable must not recover the working folder.
  test('recover rejects an empty -data-dir', async () => {
    const work = join(dir, 'cwd');
    await writeFile(join(dir, 'backup.snap'), await archiveOf(stateWith(['web']), 2, membership([7])));
    await mkdir(work);

    const run = await runSignetIn(work, [
      'operator',
      'raft',
      'recover',
      '-data-dir=',
      `-snapshot=${join(dir, 'backup.snap')}`,
    ]);

    assert.deepEqual(await readdir(work), [], 'nothing is written to the working folder');
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /\[DATA_DIR_INVALID\]/);
  });

  // Reading a FIFO waits for a writer, so a reader that does not check the file type hangs.
  test('inspect rejects a FIFO', async () => {
    const fifo = join(dir, 'inspect-pipe');
    makeFifo(fifo);

    const run = await runSignetIn(dir, ['operator', 'snapshot', 'inspect', fifo]);

    assert.equal(run.code, 1, `exit code (-1: killed after ${HUNG_AFTER_MS} ms)`);
  });

  test('recover rejects a FIFO snapshot', async () => {
    const fifo = join(dir, 'recover-pipe');
    makeFifo(fifo);
    const target = join(dir, 'recover-target');
    await mkdir(target);

    const run = await runSignetIn(dir, [
      'operator',
      'raft',
      'recover',
      `-data-dir=${target}`,
      `-snapshot=${fifo}`,
    ]);

    assert.equal(run.code, 1, `exit code (-1: killed after ${HUNG_AFTER_MS} ms)`);
    assert.match(run.stderr, /\[IO\]/);
    assert.deepEqual(await readdir(target), [], 'nothing is written to the data folder');
  });
});
