import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RequestError } from '../../src/server/request-error.js';
import type { Allocation } from '../../src/structs/allocation.js';
import { accessorId, makeToken, secretId } from '../state/acl-fixtures.js';
import { startVariablesServer, type VariablesServer } from '../support/variables-server.js';
import { makeAlloc, makeJob, registration } from '../support/workload.js';

// Variables.Read and Variables.List of the client RPC, through the real authenticator, ACL
// resolver and variable encryption, with identities signed by a root key in the state.

type Body = Record<string, unknown>;

const SECRET_VALUE = 'hunter2-do-not-log';

describe('client RPC variable reads', { timeout: 30_000 }, () => {
  let server: VariablesServer;
  let node: { NodeID: string; SecretID: string };
  let otherNode: { NodeID: string; SecretID: string };
  let alloc: Allocation;
  let foreignAlloc: Allocation;

  const call = (method: string, body: Body, signal = new AbortController().signal): Promise<Body> =>
    server.variableEndpoints.handle(method, body, {
      remoteAddress: '127.0.0.1:50000',
      signal,
    }) as Promise<Body>;

  const tokenOf = (placed: Allocation, task = 'server'): string =>
    server.state.allocation(placed.ID)!.SignedIdentities[task]!;

  async function rejects(promise: Promise<unknown>, status: number, message: string): Promise<void> {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
      assert.equal(err.status, status);
      assert.equal(err.message, message);
      return true;
    });
  }

  before(async () => {
    server = await startVariablesServer();
    const nodes = [registration(), registration({ Name: 'client-2' })];
    for (const body of nodes) await call('Node.Register', { Node: body });
    node = { NodeID: nodes[0]!.ID as string, SecretID: nodes[0]!.SecretID as string };
    otherNode = { NodeID: nodes[1]!.ID as string, SecretID: nodes[1]!.SecretID as string };

    await server.createNamespace('shared');
    const job = makeJob();
    alloc = makeAlloc({ NodeID: node.NodeID, SignedIdentities: { server: '' } });
    foreignAlloc = makeAlloc({
      NodeID: otherNode.NodeID,
      Name: 'web.frontend[1]',
      SignedIdentities: { server: '' },
    });
    await server.place(job, [alloc, foreignAlloc]);

    await server.putPolicy({
      Name: 'web-shared',
      Rules: `namespace "shared" { variables {
        path "app/*" { capabilities = ["read", "list"] }
        path "app/private" { capabilities = ["deny"] }
      } }`,
      JobACL: { Namespace: 'default', JobID: 'web', Group: '', Task: '' },
    });
    await server.putVariable('default', 'nomad/jobs/web/frontend/server', { user: 'web' });
    await server.putVariable('default', 'nomad/jobs/other', { user: 'other' });
    await server.putVariable('shared', 'app/db', { password: SECRET_VALUE });
    await server.putVariable('shared', 'app/private', { key: 'private' });
    await server.putVariable('shared', 'ops/keys', { key: 'ops' });
  });

  after(async () => {
    await server?.close();
  });

  test('implicit path is readable', async () => {
    const reply = await call('Variables.Read', {
      ...node,
      AuthToken: tokenOf(alloc),
      Path: 'nomad/jobs/web/frontend/server',
    });
    const data = reply.Data as { Namespace: string; Path: string; Items: Record<string, string> };
    assert.equal(data.Namespace, 'default');
    assert.equal(data.Path, 'nomad/jobs/web/frontend/server');
    assert.deepEqual(data.Items, { user: 'web' });
    assert.equal(reply.Index, server.state.tableIndex('variables'));
  });

  test('policy tied to the job grants another namespace', async () => {
    const reply = await call('Variables.Read', {
      ...node,
      AuthToken: tokenOf(alloc),
      Namespace: 'shared',
      Path: 'app/db',
    });
    assert.deepEqual((reply.Data as { Items: unknown }).Items, { password: SECRET_VALUE });
  });

  test('denied path is 403 whether or not it exists', async () => {
    const base = { ...node, AuthToken: tokenOf(alloc) };
    await rejects(
      call('Variables.Read', { ...base, Namespace: 'shared', Path: 'ops/keys' }),
      403,
      'Permission denied',
    );
    await rejects(
      call('Variables.Read', { ...base, Namespace: 'shared', Path: 'ops/none' }),
      403,
      'Permission denied',
    );
    await rejects(
      call('Variables.Read', { ...base, Namespace: 'shared', Path: 'app/private' }),
      403,
      'Permission denied',
    );
    await rejects(call('Variables.Read', { ...base, Path: 'nomad/jobs/other' }), 403, 'Permission denied');
  });

  test('allowed missing variable is 404', async () => {
    await rejects(
      call('Variables.Read', { ...node, AuthToken: tokenOf(alloc), Namespace: 'shared', Path: 'app/none' }),
      404,
      'variable not found',
    );
  });

  test('list keeps only listable variables', async () => {
    const shared = await call('Variables.List', { ...node, AuthToken: tokenOf(alloc), Namespace: 'shared' });
    assert.deepEqual(
      (shared.Data as { Path: string }[]).map((entry) => entry.Path),
      ['app/db'],
    );
    assert.equal((shared.Data as Record<string, unknown>[])[0]!.Items, undefined);

    const own = await call('Variables.List', { ...node, AuthToken: tokenOf(alloc), Prefix: 'nomad/' });
    assert.deepEqual(
      (own.Data as { Path: string }[]).map((entry) => entry.Path),
      ['nomad/jobs/web/frontend/server'],
    );
  });

  test('ACL token is not accepted', async () => {
    const secret = secretId(7);
    await server.apply({
      type: 'acl-token-upsert',
      v: 1,
      tokens: [makeToken({ AccessorID: accessorId(7), SecretID: secret, Type: 'management', Policies: [] })],
    });
    await rejects(
      call('Variables.Read', { ...node, AuthToken: secret, Namespace: 'shared', Path: 'app/db' }),
      403,
      'Permission denied',
    );
    await rejects(
      call('Variables.List', { ...node, AuthToken: secret, Namespace: 'shared' }),
      403,
      'Permission denied',
    );
  });

  test("another node's identity is rejected", async () => {
    const body = { AuthToken: tokenOf(foreignAlloc), Namespace: 'shared', Path: 'app/db' };
    await rejects(call('Variables.Read', { ...node, ...body }), 403, 'Permission denied');
    const own = await call('Variables.Read', { ...otherNode, ...body });
    assert.deepEqual((own.Data as { Items: unknown }).Items, { password: SECRET_VALUE });
  });

  test('bad credentials are rejected', async () => {
    const body = { Namespace: 'shared', Path: 'app/db' };
    await rejects(
      call('Variables.Read', { ...node, ...body }),
      400,
      'missing AuthToken: the task has no workload identity to read variables with',
    );
    const forged = `${tokenOf(alloc).slice(0, -4)}AAAA`;
    await rejects(call('Variables.Read', { ...node, ...body, AuthToken: forged }), 403, 'Permission denied');
    await rejects(
      call('Variables.Read', {
        NodeID: node.NodeID,
        SecretID: otherNode.SecretID,
        ...body,
        AuthToken: tokenOf(alloc),
      }),
      403,
      'Permission denied',
    );
    await rejects(
      call('Variables.Read', { ...node, AuthToken: tokenOf(alloc), Path: 'bad path' }),
      400,
      'Invalid variable path: the path must be 1 to 128 letters, digits, "-", "_", "~" or "/", got "bad path"',
    );
  });

  test('blocking list waits for a variable change', async () => {
    const base = { ...node, AuthToken: tokenOf(alloc), Namespace: 'shared', Prefix: 'app/' };
    const first = await call('Variables.List', base);
    const index = first.Index as number;

    const timedOut = await call('Variables.List', { ...base, MinQueryIndex: index, MaxQueryTime: 50 });
    assert.equal(timedOut.Index, index);

    const waiting = call('Variables.List', { ...base, MinQueryIndex: index, MaxQueryTime: 10_000 });
    const written = await server.putVariable('shared', 'app/db', { password: 'changed' });
    const woken = await waiting;
    assert.equal(woken.Index, written.ModifyIndex);
    assert.ok((woken.Index as number) > index);
  });

  test('no log line holds a token or a value', () => {
    const tokens = [tokenOf(alloc), tokenOf(foreignAlloc)];
    assert.ok(server.logs.text.length > 0, 'the server should have logged the rejections');
    for (const line of server.logs.text) {
      for (const token of tokens) assert.equal(line.includes(token), false, line.slice(0, 200));
      assert.equal(line.includes(SECRET_VALUE), false, line.slice(0, 200));
    }
  });
});
