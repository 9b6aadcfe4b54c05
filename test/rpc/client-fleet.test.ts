import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ClientServer, startClientServer } from '../support/client-server.js';
import { SimulatedFleet } from '../support/simulated-nodes.js';
import { makeAlloc, makeEval, makeJob, T0 } from '../support/workload.js';
import { LogCapture, waitFor } from './transport-support.js';

const NODES = 100;

test('simulated fleet registers, heartbeats and runs allocations', async (t) => {
  const server: ClientServer = await startClientServer({
    // TTLs of 1-2 s: with 300 ms ones, nodes starved of CPU by tests running beside this one
    // missed their heartbeats and were marked down.
    heartbeat: { minHeartbeatTtlMs: 1000, heartbeatGraceMs: 1000, maxHeartbeatsPerSecond: 1000 },
    transport: { maxPendingHandshakes: NODES },
  });
  let fleet: SimulatedFleet | null = null;
  try {
    const registerStart = performance.now();
    fleet = await SimulatedFleet.start({
      servers: [server.address],
      count: NODES,
      logger: new LogCapture().logger,
      maxQueryTimeMs: 5000,
      completeAfterMs: (alloc) => (alloc.JobID === 'batch' ? 100 : null),
    });
    const registerMs = performance.now() - registerStart;
    assert.equal(server.state.nodes().length, NODES);
    assert.equal(server.transport.clientConnections(), NODES);
    assert.ok(server.state.nodes().every((node) => node.Status === 'ready'));

    const nodes = fleet.nodes;
    await waitFor(
      () => nodes.every((node) => node.heartbeats >= 2),
      'two heartbeats from every node',
      20_000,
    );
    const heartbeatMs = performance.now() - registerStart;
    assert.deepEqual(server.expired, []);

    // One service and one batch allocation per node, in one plan.
    await server.apply({ type: 'job-register', v: 1, job: makeJob(), eval: makeEval() });
    await server.apply({
      type: 'job-register',
      v: 1,
      job: makeJob({ ID: 'batch', Name: 'batch', Type: 'batch' }),
      eval: makeEval({ JobID: 'batch', Type: 'batch' }),
    });
    const place = nodes.flatMap((node, i) => [
      makeAlloc({ NodeID: node.id, NodeName: node.name, Name: `web.frontend[${i}]` }),
      makeAlloc({ NodeID: node.id, NodeName: node.name, JobID: 'batch', Name: `batch.frontend[${i}]` }),
    ]);
    const placeStart = performance.now();
    await server.apply({ type: 'plan-apply', v: 2, place, stop: [], evals: [], time: T0 });
    const statusOf = (id: string) => server.state.allocation(id)?.ClientStatus;
    await waitFor(
      () => place.every((alloc) => statusOf(alloc.ID) === (alloc.JobID === 'batch' ? 'complete' : 'running')),
      'every allocation to run, and batch ones to complete',
      10_000,
    );
    const runMs = performance.now() - placeStart;

    // A node that stops heartbeating is marked down once its TTL and grace pass.
    const quitter = nodes[0]!;
    await quitter.stop();
    await waitFor(
      () => server.state.node(quitter.id)?.Status === 'down',
      'the stopped node to be marked down',
      15_000,
    );
    assert.deepEqual(server.expired, [quitter.id]);
    assert.ok(nodes.slice(1).every((node) => server.state.node(node.id)?.Status === 'ready'));

    t.diagnostic(
      `${NODES} nodes: registered in ${Math.round(registerMs)} ms, two heartbeats each after ` +
        `${Math.round(heartbeatMs)} ms (TTL 1-2 s), ${place.length} allocations reported in ${Math.round(runMs)} ms`,
    );
  } finally {
    await fleet?.stop();
    await server.close();
  }
});
