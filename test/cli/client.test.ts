import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ApiClient, ApiError, DEFAULT_ADDRESS } from '../../src/http/client.js';

/** Returns a port that was free a moment ago: opened, read and closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('address and token precedence', () => {
  const env = {
    SIGNET_ADDR: 'http://signet:1',
    NOMAD_ADDR: 'http://nomad:2',
    SIGNET_TOKEN: 's',
    NOMAD_TOKEN: 'n',
  };
  assert.equal(new ApiClient({ env: {} }).address, DEFAULT_ADDRESS);
  assert.equal(new ApiClient({ env: { NOMAD_ADDR: 'http://nomad:2' } }).address, 'http://nomad:2');
  assert.equal(new ApiClient({ env }).address, 'http://signet:1');
  assert.equal(new ApiClient({ env, address: 'http://flag:3' }).address, 'http://flag:3');
  assert.equal(new ApiClient({ env: { SIGNET_ADDR: '127.0.0.1:4646' } }).address, 'http://127.0.0.1:4646');

  assert.equal(new ApiClient({ env: {} }).addressSource, 'default');
  assert.equal(new ApiClient({ env: { NOMAD_ADDR: 'http://nomad:2' } }).addressSource, 'NOMAD_ADDR');
  assert.equal(new ApiClient({ env }).addressSource, 'SIGNET_ADDR');
  assert.equal(new ApiClient({ env, address: 'http://flag:3' }).addressSource, 'flag');
});

test('invalid address is an INVALID_ADDRESS error', () => {
  for (const address of ['http://', 'ftp://host:1', 'unix:///tmp/sock']) {
    assert.throws(
      () => new ApiClient({ env: {}, address }),
      (err: unknown) => err instanceof ApiError && err.code === 'INVALID_ADDRESS',
      address,
    );
  }
});

test('connection refused names the address', async () => {
  const port = await closedPort();
  const client = new ApiClient({ env: {}, address: `http://127.0.0.1:${port}` });
  await assert.rejects(client.get('/v1/status/leader'), (err: unknown) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 'CONNECTION_FAILED');
    assert.ok(err.message.includes(`http://127.0.0.1:${port}`));
    assert.ok(err.message.includes('connection refused'));
    assert.ok(err.message.includes('set by -address'));
    assert.ok(!err.message.includes('\n'));
    return true;
  });
});

test('token header, status errors and JSON bodies', async () => {
  const seen: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers['x-nomad-token'] as string | undefined);
    if (req.url?.startsWith('/v1/missing')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Namespace not found\n');
    } else if (req.url === '/v1/denied') {
      res.writeHead(403);
      res.end('Permission denied');
    } else if (req.url === '/v1/html') {
      res.writeHead(200);
      res.end('<html>');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Nomad-Index': '12' });
      res.end('{"ok":true}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const client = new ApiClient({ env: { NOMAD_TOKEN: ' secret-token ' }, address: `127.0.0.1:${port}` });

    const ok = await client.get<{ ok: boolean }>('/v1/fine');
    assert.deepEqual(ok.body, { ok: true });
    assert.equal(ok.index, 12);
    assert.equal(seen[0], 'secret-token');

    await assert.rejects(client.get('/v1/missing'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'HTTP_STATUS');
      assert.equal(err.status, 404);
      assert.equal(err.serverMessage, 'Namespace not found');
      assert.ok(!err.message.includes('\n'));
      assert.ok(err.message.endsWith('; check the ID, name or path'), err.message);
      return true;
    });
    await assert.rejects(client.get('/v1/missing', { namespace: 'prod' }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.ok(err.message.endsWith('and -namespace (the request used "prod")'), err.message);
      return true;
    });
    await assert.rejects(client.get('/v1/denied'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 403);
      assert.ok(err.message.endsWith('; check the token set by NOMAD_TOKEN'), err.message);
      assert.ok(!err.message.includes('secret-token'));
      return true;
    });
    await assert.rejects(
      client.get('/v1/html'),
      (err: unknown) => err instanceof ApiError && err.code === 'INVALID_RESPONSE',
    );

    const anonymous = new ApiClient({ env: {}, address: `127.0.0.1:${port}` });
    await anonymous.get('/v1/fine');
    assert.equal(seen.at(-1), undefined);
    await assert.rejects(anonymous.get('/v1/denied'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.ok(
        err.message.endsWith('; no token was sent: set -token, SIGNET_TOKEN or NOMAD_TOKEN'),
        err.message,
      );
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('aborted request is ABORTED', async () => {
  const server = createServer(() => {
    // never answers
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const client = new ApiClient({ env: {}, address: `http://127.0.0.1:${port}` });
    const controller = new AbortController();
    const pending = client.get('/v1/jobs', { index: '5' }, { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof ApiError && err.code === 'ABORTED');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('unanswered request times out', async () => {
  const server = createServer(() => {
    // never answers
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const client = new ApiClient({ env: {}, address: `http://127.0.0.1:${port}`, timeoutMs: 200 });
    await assert.rejects(client.get('/v1/status/leader'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'TIMEOUT');
      assert.match(err.message, /timed out after 200 ms/);
      return true;
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('download keeps raw bytes and maps errors', async () => {
  const seen: (string | undefined)[] = [];
  const payload = Buffer.from([0x00, 0xff, 0x7b, 0x0a, 0x80]);
  const server = createServer((req, res) => {
    seen.push(req.headers['x-nomad-token'] as string | undefined);
    if (req.url === '/v1/denied') {
      res.writeHead(403);
      res.end('Permission denied');
    } else if (req.url === '/v1/slow') {
      // Sends nothing, so only the request's time limit ends it.
    } else {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Nomad-Index': '7' });
      res.end(payload);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const client = new ApiClient({ env: { SIGNET_TOKEN: 'secret-token' }, address: `127.0.0.1:${port}` });

    const download = await client.download('/v1/bytes', { stale: true });
    assert.deepEqual(download.body, payload);
    assert.equal(download.index, 7);
    assert.equal(download.headers['content-type'], 'application/octet-stream');
    assert.equal(seen[0], 'secret-token');

    await assert.rejects(client.download('/v1/denied'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'HTTP_STATUS');
      assert.equal(err.status, 403);
      assert.ok(err.message.endsWith('; check the token set by SIGNET_TOKEN'), err.message);
      return true;
    });
    await assert.rejects(client.download('/v1/slow', {}, { timeoutMs: 50 }), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 'TIMEOUT');
      assert.ok(err.message.includes('after 50 ms'), err.message);
      return true;
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('404 from token self names the workload identity', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('ACL token not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const address = `127.0.0.1:${port}`;
    const workload = new ApiClient({ env: {}, address, token: 'eyJ.workload.jwt' });
    await assert.rejects(workload.get('/v1/acl/token/self'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.status, 404);
      assert.equal(err.serverMessage, 'ACL token not found');
      assert.match(err.message, /; the token set by -token is a workload identity, not an ACL token/);
      assert.doesNotMatch(err.message, /ID, name or path/);
      return true;
    });

    const anonymous = new ApiClient({ env: {}, address });
    await assert.rejects(anonymous.get('/v1/acl/token/self'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.match(err.message, /; no token was sent: set -token, SIGNET_TOKEN or NOMAD_TOKEN$/);
      return true;
    });

    // Other routes keep the hint about the ID in the path.
    await assert.rejects(workload.get('/v1/acl/token/0000'), (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.match(err.message, /; check the ID, name or path$/);
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
