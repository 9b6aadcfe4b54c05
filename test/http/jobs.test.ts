import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canonicalizeJob, validateJob } from '../../src/jobspec/index.js';
import type { Job } from '../../src/structs/job.js';
import { jobInput } from './support/fixtures.js';
import { startTestServer, type TestServer, waitUntil } from './support/test-backend.js';

interface RegisterReply {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  Warnings: string;
  Index: number;
  LastIndex: number;
}

describe('job endpoints', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    const created = await fetch(`${server.url}/v1/namespace/team-a`, {
      method: 'PUT',
      body: JSON.stringify({ Name: 'team-a' }),
    });
    assert.equal(created.status, 200);
  });
  after(async () => {
    await server.close();
  });

  function send(path: string, body: unknown, method = 'PUT'): Promise<Response> {
    return fetch(`${server.url}${path}`, { method, body: JSON.stringify(body) });
  }

  async function register(input: Record<string, unknown>, path = '/v1/jobs'): Promise<RegisterReply> {
    const response = await send(path, { Job: input });
    assert.equal(response.status, 200, await response.clone().text());
    const reply = (await response.json()) as RegisterReply;
    assert.equal(response.headers.get('x-nomad-index'), String(reply.Index));
    return reply;
  }

  test('register returns the evaluation', async () => {
    const reply = await register(jobInput('reg'));
    assert.deepEqual(Object.keys(reply).sort(), [
      'EvalCreateIndex',
      'EvalID',
      'Index',
      'JobModifyIndex',
      'LastIndex',
      'Warnings',
    ]);
    assert.equal(reply.Warnings, '');
    assert.equal(reply.EvalCreateIndex, reply.Index);
    assert.equal(reply.LastIndex, reply.Index);

    const evaluation = server.backend.state.evaluation(reply.EvalID);
    assert.ok(evaluation !== null);
    assert.equal(evaluation.Status, 'pending');
    assert.equal(evaluation.TriggeredBy, 'job-register');
    assert.equal(evaluation.JobID, 'reg');

    const job = server.backend.state.job('default', 'reg');
    assert.ok(job !== null);
    assert.equal(job.JobModifyIndex, reply.JobModifyIndex);
    assert.ok(job.SubmitTime > 0);
  });

  test('read returns the full job', async () => {
    const reply = await register(jobInput('full'));
    const response = await fetch(`${server.url}/v1/job/full`);
    assert.equal(response.status, 200);
    const job = (await response.json()) as Job;
    assert.equal(job.ID, 'full');
    assert.equal(job.TaskGroups[0]!.Tasks[0]!.Driver, 'mock');
    assert.equal(job.JobModifyIndex, reply.JobModifyIndex);
    assert.equal(response.headers.get('x-nomad-index'), String(job.ModifyIndex));
    assert.equal(response.headers.get('x-nomad-knownleader'), 'true');
  });

  test('missing job is 404', async () => {
    const response = await fetch(`${server.url}/v1/job/nope`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'job not found');
    assert.equal(response.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('jobs')));
  });

  test('list rows are job stubs', async () => {
    await register(jobInput('list-a'));
    await register(jobInput('list-b'));
    const response = await fetch(`${server.url}/v1/jobs?prefix=list-`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('jobs')));
    const rows = (await response.json()) as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((row) => row.ID),
      ['list-a', 'list-b'],
    );
    assert.deepEqual(Object.keys(rows[0]!).sort(), [
      'CreateIndex',
      'Datacenters',
      'ID',
      'JobModifyIndex',
      'ModifyIndex',
      'Name',
      'Namespace',
      'ParentID',
      'Priority',
      'Status',
      'StatusDescription',
      'Stop',
      'SubmitTime',
      'Type',
    ]);
    assert.equal(rows[0]!.StatusDescription, '');
    assert.equal(rows[0]!.Type, 'service');
  });

  test('list filters by namespace', async () => {
    await register(jobInput('in-team'), '/v1/jobs?namespace=team-a');
    const team = (await (await fetch(`${server.url}/v1/jobs?namespace=team-a`)).json()) as Job[];
    assert.deepEqual(
      team.map((job) => job.ID),
      ['in-team'],
    );
    const plain = (await (await fetch(`${server.url}/v1/jobs`)).json()) as Job[];
    assert.ok(!plain.some((job) => job.ID === 'in-team'));
    const all = (await (await fetch(`${server.url}/v1/jobs?namespace=*`)).json()) as Job[];
    assert.ok(all.some((job) => job.ID === 'in-team' && job.Namespace === 'team-a'));
    assert.ok(all.some((job) => job.Namespace === 'default'));

    assert.equal((await fetch(`${server.url}/v1/job/in-team`)).status, 404);
    assert.equal((await fetch(`${server.url}/v1/job/in-team?namespace=team-a`)).status, 200);
  });

  test('namespace precedence: query, body, job', async () => {
    const fromBody = await send('/v1/jobs', { Namespace: 'team-a', Job: jobInput('ns-body') });
    assert.equal(fromBody.status, 200, await fromBody.clone().text());
    assert.ok(server.backend.state.job('team-a', 'ns-body') !== null);

    const fromJob = await send('/v1/jobs', { Job: jobInput('ns-job', { Namespace: 'team-a' }) });
    assert.equal(fromJob.status, 200);
    assert.ok(server.backend.state.job('team-a', 'ns-job') !== null);

    const queryWins = await send('/v1/jobs?namespace=default', {
      Namespace: 'team-a',
      Job: jobInput('ns-query', { Namespace: 'team-a' }),
    });
    assert.equal(queryWins.status, 200);
    assert.ok(server.backend.state.job('default', 'ns-query') !== null);
  });

  test('nonexistent namespace is 400', async () => {
    const response = await send('/v1/jobs', { Job: jobInput('lost', { Namespace: 'ghost' }) });
    assert.equal(response.status, 400);
    assert.equal(await response.text(), 'job "lost" is in nonexistent namespace "ghost"');
    assert.equal(server.backend.state.job('ghost', 'lost'), null);
  });

  test('bad bodies are 400 with Nomad messages', async () => {
    for (const [path, body, message] of [
      ['/v1/jobs', {}, 'Job must be specified'],
      ['/v1/jobs', { Job: null }, 'Job must be specified'],
      ['/v1/jobs', { Job: { Name: 'x' } }, "Job ID hasn't been provided"],
      ['/v1/job/other', { Job: jobInput('mismatch') }, 'Job ID does not match name'],
      ['/v1/jobs', [], 'Invalid request body: expected a JSON object such as {"Job": {...}}'],
    ] as const) {
      const response = await send(path, body);
      assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(await response.text(), message);
    }
  });

  test('invalid job lists every problem', async () => {
    const input = jobInput('broken', {
      Priority: 500,
      TaskGroups: [
        {
          Name: 'app',
          Count: 1,
          Tasks: [{ Name: 'server', Driver: '', Resources: { CPU: 0, MemoryMB: 1 } }],
        },
      ],
    });
    const expected = validateJob(canonicalizeJob({ ...input, Namespace: 'default' }));
    assert.ok(expected.length >= 3, `the fixture must have several problems, got ${expected.join('; ')}`);

    const response = await send('/v1/jobs', { Job: input });
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.match(text, new RegExp(`^${expected.length} errors occurred:`));
    for (const problem of expected) assert.ok(text.includes(problem), `missing problem: ${problem}`);
    assert.equal(server.backend.state.job('default', 'broken'), null);
  });

  test('POST to the job path updates it', async () => {
    const first = await register(jobInput('update'));
    const second = await register(jobInput('update', { Priority: 70 }), '/v1/job/update');
    assert.ok(second.JobModifyIndex > first.JobModifyIndex);
    assert.equal(server.backend.state.job('default', 'update')?.Priority, 70);
  });

  test('delete stops, purge removes', async () => {
    await register(jobInput('stopme'));
    const stopped = await fetch(`${server.url}/v1/job/stopme`, { method: 'DELETE' });
    assert.equal(stopped.status, 200);
    const reply = (await stopped.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(reply).sort(), ['EvalCreateIndex', 'EvalID', 'Index', 'JobModifyIndex']);
    assert.equal(stopped.headers.get('x-nomad-index'), String(reply.Index));
    assert.equal(server.backend.state.job('default', 'stopme')?.Stop, true);
    const evaluation = server.backend.state.evaluation(reply.EvalID as string);
    assert.equal(evaluation?.TriggeredBy, 'job-deregister');
    assert.equal(evaluation?.Status, 'pending');

    const purged = await fetch(`${server.url}/v1/job/stopme?purge=true`, { method: 'DELETE' });
    assert.equal(purged.status, 200);
    assert.equal(server.backend.state.job('default', 'stopme'), null);
  });

  test('delete of a missing job is 404', async () => {
    const response = await fetch(`${server.url}/v1/job/never`, { method: 'DELETE' });
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'job not found');
  });

  test('invalid purge value is 400', async () => {
    await register(jobInput('purge-bad'));
    const response = await fetch(`${server.url}/v1/job/purge-bad?purge=maybe`, { method: 'DELETE' });
    assert.equal(response.status, 400);
    assert.match(await response.text(), /^Invalid purge value "maybe"/);
    assert.equal(server.backend.state.job('default', 'purge-bad')?.Stop, false);
  });

  test('job evaluations and allocations', async () => {
    const reply = await register(jobInput('with-evals'));
    const evals = await fetch(`${server.url}/v1/job/with-evals/evaluations`);
    assert.equal(evals.status, 200);
    assert.equal(evals.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('evals')));
    assert.deepEqual(
      ((await evals.json()) as { ID: string }[]).map((evaluation) => evaluation.ID),
      [reply.EvalID],
    );
    const allocs = await fetch(`${server.url}/v1/job/with-evals/allocations`);
    assert.equal(allocs.status, 200);
    assert.deepEqual(await allocs.json(), []);
    assert.equal(allocs.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('allocs')));
  });

  test('blocking list wakes on a job write', async () => {
    const first = await fetch(`${server.url}/v1/jobs`);
    const index = Number(first.headers.get('x-nomad-index'));
    const blocked = fetch(`${server.url}/v1/jobs?index=${index}&wait=30s`);
    await waitUntil(() => server.backend.state.pendingWaits('jobs') === 1, 'the query to block');

    const reply = await register(jobInput('wake'));
    const response = await blocked;
    assert.equal(Number(response.headers.get('x-nomad-index')), reply.Index);
    const ids = ((await response.json()) as Job[]).map((job) => job.ID);
    assert.ok(ids.includes('wake'));
  });

  test('blocking read of one job wakes only on its change', async () => {
    const reply = await register(jobInput('watched'));
    const modifyIndex = server.backend.state.job('default', 'watched')!.ModifyIndex;
    const blocked = fetch(`${server.url}/v1/job/watched?index=${modifyIndex}&wait=30s`);
    await waitUntil(() => server.backend.state.pendingWaits('jobs') === 1, 'the query to block');

    await register(jobInput('bystander'));
    await waitUntil(() => server.backend.state.pendingWaits('jobs') === 1, 'the query to block again');

    const update = await register(jobInput('watched', { Priority: 80 }));
    const response = await blocked;
    assert.ok(update.Index > reply.Index);
    assert.equal(Number(response.headers.get('x-nomad-index')), update.Index);
    assert.equal(((await response.json()) as Job).Priority, 80);
  });

  test('stale read skips the consistent read', async () => {
    const before = server.backend.consistentReads;
    assert.equal((await fetch(`${server.url}/v1/jobs?stale`)).status, 200);
    assert.equal(server.backend.consistentReads, before);
    assert.equal((await fetch(`${server.url}/v1/jobs`)).status, 200);
    assert.equal(server.backend.consistentReads, before + 1);
  });
});
