import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { RequestError } from '../../src/server/request-error.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

describe('HTTP server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ maxBodyBytes: 64 * 1024 });
  });
  after(async () => {
    await server.close();
  });

  test('status leader returns a JSON string', async () => {
    const response = await fetch(`${server.url}/v1/status/leader`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(await response.json(), '127.0.0.1:4647');
    assert.equal(response.headers.get('x-nomad-knownleader'), 'true');
    assert.equal(response.headers.get('x-nomad-lastcontact'), '0');
  });

  test('status peers lists voters', async () => {
    const response = await fetch(`${server.url}/v1/status/peers`);
    assert.deepEqual(await response.json(), ['127.0.0.1:4647', '127.0.0.1:5647']);
  });

  test('leader headers follow the backend', async () => {
    server.backend.contact = { knownLeader: false, lastContactMs: 1234.6 };
    try {
      const response = await fetch(`${server.url}/v1/status/leader`);
      assert.equal(response.headers.get('x-nomad-knownleader'), 'false');
      assert.equal(response.headers.get('x-nomad-lastcontact'), '1235');
    } finally {
      server.backend.contact = { knownLeader: true, lastContactMs: 0 };
    }
  });

  test('unknown path is 404', async () => {
    const response = await fetch(`${server.url}/v1/no/such/thing`);
    assert.equal(response.status, 404);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await response.text(), /\/v1\/no\/such\/thing/);
  });

  test('wrong method on a known path is 405', async () => {
    for (const [method, path] of [
      ['POST', '/v1/status/leader'],
      ['DELETE', '/v1/namespaces'],
      ['GET', '/v1/namespace'],
      ['GET', '/v1/operator/raft/peer'],
      ['HEAD', '/v1/agent/self'],
      ['PATCH', '/v1/namespace/default'],
    ] as const) {
      const response = await fetch(`${server.url}${path}`, { method });
      assert.equal(response.status, 405, `${method} ${path}`);
      if (method !== 'HEAD') assert.equal(await response.text(), 'Invalid method');
    }
  });

  test('trailing slash matches the route', async () => {
    const response = await fetch(`${server.url}/v1/namespaces/`);
    assert.equal(response.status, 200);
  });

  test('malformed percent-encoding is 400', async () => {
    const response = await fetch(`${server.url}/v1/namespace/%E0%A4%A`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /percent-encoding/);
  });

  test('invalid JSON body is 400 naming the problem', async () => {
    const response = await fetch(`${server.url}/v1/namespace/team-a`, { method: 'PUT', body: '{"Name": ' });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'Invalid JSON in request body: unexpected end at position 9');
  });

  test('invalid JSON body is never quoted', async () => {
    // Node 20's JSON.parse message quotes the text around an unexpected token.
    const secret = 'hunter2-top-secret-value';
    const body = `{"Name": "team-a", "password":${secret}}`;
    const response = await fetch(`${server.url}/v1/namespace/team-a`, { method: 'PUT', body });
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.equal(
      text,
      `Invalid JSON in request body: unexpected character at position ${body.indexOf(secret)}`,
    );
    assert.doesNotMatch(JSON.stringify(server.logLines), /hunter2/);
    const logged = server.logLines.find((line) => line.reason === text);
    assert.ok(logged, 'the rejection is logged with its reason');
  });

  test('missing body is 400', async () => {
    const response = await fetch(`${server.url}/v1/namespace/team-a`, { method: 'PUT' });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /^Missing request body/);
  });

  test('body that is not UTF-8 is 400', async () => {
    const response = await fetch(`${server.url}/v1/namespace/team-a`, {
      method: 'PUT',
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /UTF-8/);
  });

  test('declared oversized body is 413 and the connection closes', async () => {
    const reply = await rawRequest(server.http.port, {
      method: 'PUT',
      path: '/v1/namespace/team-a',
      headers: { 'content-length': String(10 * 1024 * 1024) },
      // Sends only the start, so the server must reply without waiting for the rest.
      chunks: [Buffer.alloc(1024, 0x20)],
      end: false,
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.headers.connection, 'close');
    assert.match(reply.body, /^Request body too large: the limit is 65536 bytes$/);
  });

  test('chunked oversized body is 413', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const reply = await rawRequest(server.http.port, {
      method: 'PUT',
      path: '/v1/namespace/team-a',
      headers: { 'transfer-encoding': 'chunked' },
      chunks: Array.from({ length: 8 }, () => chunk),
      end: true,
    });
    assert.equal(reply.status, 413);
    assert.match(reply.body, /limit is 65536 bytes/);
  });

  test('server keeps serving after the oversized bodies', async () => {
    const response = await fetch(`${server.url}/v1/status/leader`);
    assert.equal(response.status, 200);
  });

  test('RequestError from the backend keeps its status and message', async () => {
    server.backend.consistentReadError = new RequestError(500, 'No cluster leader');
    try {
      const response = await fetch(`${server.url}/v1/namespaces`);
      assert.equal(response.status, 500);
      assert.equal(await response.text(), 'No cluster leader');
    } finally {
      server.backend.consistentReadError = null;
    }
  });

  test('unexpected error is a generic 500, logged with its stack', async () => {
    server.backend.selfError = new Error('secret-free failure detail');
    try {
      const response = await fetch(`${server.url}/v1/agent/self?token=do-not-log`);
      assert.equal(response.status, 500);
      const text = await response.text();
      assert.doesNotMatch(text, /secret-free failure detail/);
      assert.match(text, /server log/);
    } finally {
      server.backend.selfError = null;
    }
    const line = server.logLines.find((entry) => entry.msg === 'HTTP handler failed');
    assert.ok(line, 'the failure is logged');
    assert.equal(line.level, 50);
    assert.equal(line.path, '/v1/agent/self');
    assert.equal(line.method, 'GET');
    const err = line.err as { message: string; stack: string };
    assert.equal(err.message, 'secret-free failure detail');
    assert.match(err.stack, /at /);
    assert.doesNotMatch(JSON.stringify(line), /do-not-log/);
  });

  test('request bodies never reach the log', async () => {
    await fetch(`${server.url}/v1/namespace/team-secret`, {
      method: 'PUT',
      body: JSON.stringify({ Description: 'hunter2-in-body', Meta: { x: 1 } }),
    });
    assert.doesNotMatch(JSON.stringify(server.logLines), /hunter2-in-body/);
  });

  test('malformed HTTP gets 400 and the server survives', async () => {
    for (const raw of [
      'NOT HTTP AT ALL\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /v1/%%% HTTP/1.1\r\n\r\n',
    ]) {
      const reply = await rawExchange(server.http.port, raw);
      assert.match(reply, /^HTTP\/1\.1 (400|404) /, JSON.stringify(raw));
    }
    const response = await fetch(`${server.url}/v1/status/leader`);
    assert.equal(response.status, 200);
  });

  test('agent self, health and members', async () => {
    const self = await fetch(`${server.url}/v1/agent/self`);
    assert.equal(self.status, 200);
    assert.deepEqual(((await self.json()) as { config: unknown }).config, { NodeName: 'test-1' });

    const health = await fetch(`${server.url}/v1/agent/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { server: { ok: true, message: 'ok' } });

    server.backend.healthy = false;
    try {
      const unhealthy = await fetch(`${server.url}/v1/agent/health`);
      assert.equal(unhealthy.status, 500);
      assert.deepEqual(await unhealthy.json(), { server: { ok: false, message: 'no cluster leader' } });
    } finally {
      server.backend.healthy = true;
    }

    const members = await fetch(`${server.url}/v1/agent/members`);
    const body = (await members.json()) as { ServerName: string; Members: { Name: string; Port: number }[] };
    assert.equal(body.ServerName, 'test-1');
    assert.deepEqual(
      body.Members.map((member) => [member.Name, member.Port]),
      [
        ['test-1', 4647],
        ['test-2', 5647],
        ['test-3', 6647],
      ],
    );
  });
});

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request with node:http so the test controls framing and when the body ends. */
function rawRequest(
  port: number,
  options: { method: string; path: string; headers: Record<string, string>; chunks: Buffer[]; end: boolean },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: options.method,
      path: options.path,
      headers: options.headers,
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(parts).toString('utf8'),
        });
        req.destroy();
      });
      res.on('error', reject);
    });
    // The server may close while this side still writes; only a missing response is a failure.
    req.on('error', (err) => reject(err));
    for (const chunk of options.chunks) req.write(chunk);
    if (options.end) req.end();
  });
}

/** Writes raw bytes on a new connection and returns everything the server sends until it closes or 2 s pass. */
function rawExchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    socket.setTimeout(2000, () => socket.end());
    socket.on('data', (part: Buffer) => {
      parts.push(part);
      // One response is enough; a keep-alive connection would otherwise stay open.
      socket.end();
    });
    socket.on('close', () => resolve(Buffer.concat(parts).toString('latin1')));
    socket.on('error', reject);
    socket.write(raw);
  });
}
