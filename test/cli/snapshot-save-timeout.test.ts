import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { downloadToFile } from '../../src/cli/snapshot-download.js';
import { ApiError } from '../../src/http/client.js';
import { removeDir, tempDir } from '../snapshot/support.js';
import { signet } from './support/run-signet.js';

/** Idle limit of the requests below, in milliseconds. */
const IDLE_MS = 300;

function listen(server: TcpServer | HttpServer): Promise<string> {
  return new Promise((resolveListen) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      assert.ok(address !== null && typeof address === 'object');
      resolveListen(`http://127.0.0.1:${address.port}`);
    });
  });
}

async function downloadError(address: string, file: string): Promise<ApiError> {
  const err = await downloadToFile({ address }, '/v1/operator/snapshot', {}, file, IDLE_MS).then(
    () => null,
    (caught: unknown) => caught,
  );
  assert.ok(err instanceof ApiError, `expected an ApiError, got ${String(err)}`);
  return err;
}

// A server stopped with SIGSTOP still accepts connections, because the kernel does, but sends no
// response. Without an idle limit the download waits for its 10-minute limit.
describe('snapshot save against a frozen server', () => {
  let dir = '';
  const sockets: Socket[] = [];
  // Accepts connections and sends nothing.
  const silent = createTcpServer((socket) => sockets.push(socket));
  // Sends the headers and part of the body, then nothing.
  const stalled = createHttpServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': '1000' });
    response.write(Buffer.alloc(10));
  });
  let silentUrl = '';
  let stalledUrl = '';

  before(async () => {
    dir = await tempDir('save-timeout');
    silentUrl = await listen(silent);
    stalledUrl = await listen(stalled);
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    stalled.closeAllConnections();
    await new Promise((resolveClose) => silent.close(resolveClose));
    await new Promise((resolveClose) => stalled.close(resolveClose));
    await removeDir(dir);
  });

  test('download times out before the response', async () => {
    const started = performance.now();
    const err = await downloadError(silentUrl, join(dir, 'silent.snap'));

    assert.equal(err.code, 'TIMEOUT');
    assert.ok(performance.now() - started < 30_000, 'it gives up long before 10 minutes');
  });

  test('download times out within the body', async () => {
    const err = await downloadError(stalledUrl, join(dir, 'stalled.snap'));

    assert.equal(err.code, 'TIMEOUT');
  });

  test('save -timeout exits 1', async () => {
    const run = await signet([
      'operator',
      'snapshot',
      'save',
      `-address=${silentUrl}`,
      '-timeout=1s',
      join(dir, 'cli.snap'),
    ]);

    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /timed out/);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.startsWith('cli')),
      [],
      'no file is written',
    );
  });

  test('save rejects an invalid -timeout', async () => {
    for (const value of ['0', 'soon', '11m']) {
      const run = await signet([
        'operator',
        'snapshot',
        'save',
        `-address=${silentUrl}`,
        `-timeout=${value}`,
        join(dir, 'x.snap'),
      ]);
      assert.equal(run.code, 1, value);
      assert.match(run.stderr, /invalid -timeout/, value);
    }
  });
});
