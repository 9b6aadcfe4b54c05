import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ServerMetrics } from '../../src/server/metrics.js';

/** Parses Prometheus text lines `name{labels} value` into a map keyed by `name{labels}`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    assert.ok(match, `malformed exposition line: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

interface MetricsJson {
  Timestamp: string;
  Gauges: { Name: string; Value: number; Labels: Record<string, string> }[];
  Counters: { Name: string; Count: number; Labels: Record<string, string> }[];
  Samples: { Name: string; Count: number; Sum: number; Mean: number; Buckets: Record<string, number> }[];
}

describe('ServerMetrics', () => {
  let metrics: ServerMetrics;
  before(() => {
    metrics = new ServerMetrics('s1');
    metrics.setRaftStatus({ term: 3, commitIndex: 40, appliedIndex: 39, lastIndex: 42, isLeader: true });
    metrics.leaderChanged();
    metrics.leaderChanged();
    metrics.observeAppend(0.004);
    metrics.observeAppend(0.02);
    metrics.observeFsync(0.0015);
    metrics.setProposalsWaiting(5);
  });
  after(() => {
    metrics.close();
  });

  test('Prometheus text carries the values', async () => {
    const samples = parsePrometheus(await metrics.prometheus());
    assert.equal(samples.get('signet_raft_term{node="s1"}'), 3);
    assert.equal(samples.get('signet_raft_commit_index{node="s1"}'), 40);
    assert.equal(samples.get('signet_raft_applied_index{node="s1"}'), 39);
    assert.equal(samples.get('signet_raft_last_index{node="s1"}'), 42);
    assert.equal(samples.get('signet_raft_is_leader{node="s1"}'), 1);
    assert.equal(samples.get('signet_raft_leader_changes_total{node="s1"}'), 2);
    assert.equal(samples.get('signet_raft_proposals_waiting{node="s1"}'), 5);
    assert.equal(samples.get('signet_raft_append_seconds_count{node="s1"}'), 2);
    assert.equal(samples.get('signet_raft_append_seconds_sum{node="s1"}'), 0.024);
    assert.equal(samples.get('signet_raft_append_seconds_bucket{le="0.005",node="s1"}'), 1);
    assert.equal(samples.get('signet_raft_append_seconds_bucket{le="0.025",node="s1"}'), 2);
    assert.equal(samples.get('signet_raft_fsync_seconds_count{node="s1"}'), 1);
    for (const quantile of ['0.5', '0.99']) {
      const lag = samples.get(`signet_event_loop_lag_seconds{quantile="${quantile}",node="s1"}`);
      assert.notEqual(lag, undefined, `lag quantile ${quantile} is present`);
      assert.ok(lag! >= 0, `lag quantile ${quantile} is not negative`);
    }
    assert.ok((samples.get('signet_event_loop_lag_max_seconds{node="s1"}') ?? -1) >= 0);
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  });

  test('JSON carries the values', async () => {
    const body = JSON.parse(JSON.stringify(await metrics.json())) as MetricsJson;
    assert.ok(!Number.isNaN(Date.parse(body.Timestamp)));
    const gauge = (name: string) => body.Gauges.find((entry) => entry.Name === name);
    assert.equal(gauge('signet_raft_term')?.Value, 3);
    assert.deepEqual(gauge('signet_raft_term')?.Labels, { node: 's1' });
    assert.equal(gauge('signet_raft_is_leader')?.Value, 1);
    assert.equal(gauge('signet_raft_proposals_waiting')?.Value, 5);
    assert.equal(body.Counters.find((entry) => entry.Name === 'signet_raft_leader_changes_total')?.Count, 2);

    const append = body.Samples.find((entry) => entry.Name === 'signet_raft_append_seconds');
    assert.ok(append);
    assert.equal(append.Count, 2);
    assert.equal(append.Sum, 0.024);
    assert.equal(append.Mean, 0.012);
    assert.equal(append.Buckets['0.005'], 1);
    assert.equal(append.Buckets['+Inf'], 2);
  });

  test('event-loop lag sees a blocked loop', async () => {
    await metrics.json(); // starts a fresh window
    // Blocks the loop for 60 ms while the sampler's 10 ms timer is due, then lets it fire.
    await new Promise((resolve) => setTimeout(resolve, 15));
    const until = Date.now() + 60;
    while (Date.now() < until) {
      // busy wait on purpose
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
    const body = (await metrics.json()) as unknown as MetricsJson;
    const max = body.Gauges.find((entry) => entry.Name === 'signet_event_loop_lag_max_seconds')?.Value ?? 0;
    assert.ok(max >= 0.03, `max lag ${max} s after a 60 ms block`);
  });

  test('follower status sets is-leader to 0', async () => {
    const follower = new ServerMetrics('s2');
    try {
      follower.setRaftStatus({ term: 1, commitIndex: 0, appliedIndex: 0, lastIndex: 0, isLeader: false });
      assert.match(await follower.prometheus(), /^signet_raft_is_leader\{node="s2"\} 0$/m);
    } finally {
      follower.close();
    }
  });
});
