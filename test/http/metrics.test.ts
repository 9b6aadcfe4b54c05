import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './support/test-backend.js';

describe('metrics endpoint', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    server.backend.metrics.setRaftStatus({
      term: 4,
      commitIndex: 20,
      appliedIndex: 19,
      lastIndex: 21,
      isLeader: true,
    });
  });
  after(async () => {
    await server.close();
  });

  test('JSON by default', async () => {
    const response = await fetch(`${server.url}/v1/metrics`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    const body = (await response.json()) as { Gauges: { Name: string; Value: number }[] };
    assert.equal(body.Gauges.find((gauge) => gauge.Name === 'signet_raft_term')?.Value, 4);
  });

  test('Prometheus text with format=prometheus', async () => {
    const response = await fetch(`${server.url}/v1/metrics?format=prometheus`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await response.text(), /^signet_raft_commit_index\{node="test-1"\} 20$/m);
  });

  test('unknown format is 400', async () => {
    const response = await fetch(`${server.url}/v1/metrics?format=xml`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /^Invalid format "xml"/);
  });
});
