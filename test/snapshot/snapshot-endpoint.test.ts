import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RequestError } from '../../src/server/request-error.js';
import { decodeSnapshotArchive } from '../../src/server/snapshot/archive-format.js';
import { summarizeArchiveState } from '../../src/server/snapshot/archive-state.js';
import type { AclPolicy, AclToken } from '../../src/state/store.js';
import { startTestServer, type TestServer } from '../http/support/test-backend.js';
import { accessorId, makePolicy, makeToken, secretId } from '../server/acl/support.js';

const MANAGEMENT = secretId(1);
const OPERATOR_WRITER = secretId(2);

describe('GET /v1/operator/snapshot with ACLs', () => {
  let server: TestServer;

  function get(query: string, token: string | null): Promise<Response> {
    return fetch(`${server.url}/v1/operator/snapshot${query}`, {
      headers: token === null ? {} : { 'X-Nomad-Token': token },
    });
  }

  before(async () => {
    server = await startTestServer({ aclEnabled: true });
    const { backend } = server;
    const policies: AclPolicy[] = [
      makePolicy({ Name: 'operator-write', Rules: 'operator { policy = "write" }' }),
    ];
    await backend.apply({ type: 'acl-policy-upsert', v: 1, policies });
    const tokens: AclToken[] = [
      makeToken({ AccessorID: accessorId(1), SecretID: MANAGEMENT, Type: 'management', Policies: [] }),
      makeToken({ AccessorID: accessorId(2), SecretID: OPERATOR_WRITER, Policies: ['operator-write'] }),
    ];
    await backend.apply({ type: 'acl-token-upsert', v: 1, tokens });
    for (const token of tokens)
      backend.principals.set(token.SecretID, { kind: 'acl-token', secretId: token.SecretID });
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
  });

  test('anonymous request is denied', async () => {
    const response = await get('', null);
    assert.equal(response.status, 403);
    assert.match(await response.text(), /^Permission denied/);
  });

  test('operator write policy is not enough', async () => {
    const response = await get('', OPERATOR_WRITER);
    assert.equal(response.status, 403);
    assert.match(await response.text(), /^Permission denied/);
  });

  test('management token gets the archive', async () => {
    const { backend } = server;
    const reads = backend.consistentReads;
    const response = await get('', MANAGEMENT);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.equal(response.headers.get('x-nomad-index'), String(backend.state.latestIndex));
    assert.ok(backend.consistentReads > reads, 'the read went through the leader');

    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(Number(response.headers.get('content-length')), bytes.length);
    const archive = await decodeSnapshotArchive(bytes, 'response');
    assert.equal(archive.header.index, backend.state.latestIndex);
    assert.equal(archive.header.term, 3);
    assert.deepEqual(archive.header.membership, { voters: [101, 102], learners: [103], removed: [] });
    assert.deepEqual(Buffer.from(archive.state), Buffer.from(backend.state.snapshot()));
    const summary = summarizeArchiveState(archive, 'response');
    assert.equal(summary.rows.namespaces, 3);
    assert.equal(summary.rows.aclTokens, 2);
  });

  test('stale read skips the leader', async () => {
    const { backend } = server;
    backend.consistentReadError = new RequestError(500, 'No cluster leader');
    try {
      const consistent = await get('', MANAGEMENT);
      assert.equal(consistent.status, 500);
      assert.equal(await consistent.text(), 'No cluster leader');

      const stale = await get('?stale=true', MANAGEMENT);
      assert.equal(stale.status, 200);
      const archive = await decodeSnapshotArchive(new Uint8Array(await stale.arrayBuffer()), 'response');
      assert.equal(archive.header.index, backend.state.latestIndex);
    } finally {
      backend.consistentReadError = null;
    }
  });

  test('other methods are not allowed', async () => {
    const response = await fetch(`${server.url}/v1/operator/snapshot`, {
      method: 'PUT',
      headers: { 'X-Nomad-Token': MANAGEMENT },
      body: 'x',
    });
    assert.equal(response.status, 405);
  });
});

describe('GET /v1/operator/snapshot without ACLs', () => {
  test('needs no token', async () => {
    const server = await startTestServer();
    try {
      const response = await fetch(`${server.url}/v1/operator/snapshot`);
      assert.equal(response.status, 200);
      const archive = await decodeSnapshotArchive(new Uint8Array(await response.arrayBuffer()), 'response');
      assert.equal(archive.header.index, 1);
    } finally {
      await server.close();
    }
  });
});

describe('GET /v1/operator/snapshot while one is written', () => {
  test('overlapping requests get 429', async () => {
    const server = await startTestServer();
    try {
      // Above 2 MiB of state, so hashing the archive yields to the event loop between 1 MiB steps
      // and the other requests reach the handler while the first is still in it.
      const description = 'd'.repeat(200);
      for (let i = 0; i < 12_000; i++) {
        await server.backend.apply({
          type: 'namespace-upsert',
          v: 1,
          namespace: { Name: `ns-${i}`, Description: description, Meta: null },
        });
      }
      assert.ok(server.backend.state.snapshot().byteLength > 2 * 1024 * 1024);

      const responses = await Promise.all(
        Array.from({ length: 6 }, () => fetch(`${server.url}/v1/operator/snapshot`)),
      );
      const statuses = responses.map((response) => response.status);
      assert.ok(statuses.includes(200), `statuses ${statuses.join(', ')}`);
      assert.ok(statuses.includes(429), `statuses ${statuses.join(', ')}`);
      for (const response of responses) {
        if (response.status === 429) {
          assert.match(await response.text(), /already being written/);
          continue;
        }
        const bytes = new Uint8Array(await response.arrayBuffer());
        const archive = await decodeSnapshotArchive(bytes, 'response');
        assert.equal(archive.header.index, server.backend.state.latestIndex);
      }

      const after = await fetch(`${server.url}/v1/operator/snapshot`);
      assert.equal(after.status, 200, 'served again once the others have finished');
      await after.arrayBuffer();
    } finally {
      await server.close();
    }
  });
});
