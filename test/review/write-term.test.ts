import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { RaftDriver } from '../../src/raft/driver.js';
import type { RaftStatus } from '../../src/raft/raft.js';
import type { Frame, RpcTransport } from '../../src/rpc/transport.js';
import type { AgentConfig } from '../../src/server/agent-config.js';
import { ClusterOperations } from '../../src/server/cluster-operations.js';
import type { Heartbeats } from '../../src/server/heartbeats.js';
import type { ServerKeyring } from '../../src/server/keyring/server-keyring.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import type { PeerDirectory } from '../../src/server/peer-directory.js';
import { RequestError } from '../../src/server/request-error.js';
import { StateStore } from '../../src/state/store.js';
import { DriverCluster, waitFor } from '../raft/driver/harness.js';

const silent = pino({ level: 'silent' });

/** Term in which the leader passed the write barrier, before anything below changes it. */
const BARRIER_TERM = 5;

/**
 * A driver that records the calls ClusterOperations makes. `status` is the server's view at the
 * moment, and the tests change it between the write barrier and the handler's commit.
 */
class RecordingDriver {
  status: RaftStatus = {
    id: 1,
    term: BARRIER_TERM,
    vote: 1,
    commit: 10,
    applied: 10,
    firstIndex: 1,
    lastIndex: 10,
    lastLogTerm: BARRIER_TERM,
    snapshotIndex: 0,
    snapshotTerm: 0,
    role: 'leader',
    leaderId: 1,
    membership: { voters: [1, 2, 3], learners: [], removed: [] },
    transferTarget: 0,
  };
  readonly membershipProposals: unknown[] = [];
  readonly transfers: number[] = [];

  asDriver(): RaftDriver {
    const driver = {
      status: () => this.status,
      proposeMembership: (change: unknown) => {
        this.membershipProposals.push(change);
        return Promise.resolve({ index: this.status.lastIndex + 1, result: null });
      },
      transferLeadership: (target: number) => {
        this.transfers.push(target);
        // The transfer completes at once, so the handler's wait ends on the next status check.
        this.status = { ...this.status, role: 'follower', leaderId: target, term: this.status.term + 1 };
      },
      followerProgress: () => [
        { id: 2, match: 10 },
        { id: 3, match: 10 },
      ],
      waitForApplied: () => Promise.resolve(),
      propose: (_data: Uint8Array, expectedTerm?: number) => {
        if (expectedTerm !== undefined && expectedTerm !== this.status.term) {
          return Promise.reject(Object.assign(new Error('refused'), { code: 'NOT_LEADER' }));
        }
        return Promise.resolve({ index: this.status.lastIndex + 1, result: { ok: true } });
      },
    };
    return driver as unknown as RaftDriver;
  }
}

/** A transport that records every forwarded request, which the leader accepts. */
class RecordingTransport {
  readonly requests: { to: number; frame: Frame }[] = [];

  asTransport(): RpcTransport {
    const transport = {
      request: (to: number, frame: Frame) => {
        this.requests.push({ to, frame });
        return Promise.resolve({ kind: 'done', index: 11 });
      },
      connectedPeers: () => [2, 3],
    };
    return transport as unknown as RpcTransport;
  }
}

function newOperations(driver: RecordingDriver, transport: RecordingTransport): ClusterOperations {
  const config = { acl: { enabled: true }, dataDir: '/nonexistent', server: { oidcIssuer: null } };
  return new ClusterOperations({
    nodeName: 'review-1',
    config: config as unknown as AgentConfig,
    state: new StateStore(),
    metrics: new ServerMetrics('review-1'),
    driver: driver.asDriver(),
    transport: transport.asTransport(),
    directory: { get: () => undefined, all: () => [] } as unknown as PeerDirectory,
    self: () => ({ id: 1, name: 'review-1', rpcAddr: '127.0.0.1:1', httpAddr: '127.0.0.1:2' }),
    heartbeats: {} as unknown as Heartbeats,
    keyring: {} as unknown as ServerKeyring,
    logger: silent,
  });
}

/** Runs a handler and returns the error it threw, or null when it succeeded. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
    return null;
  } catch (err) {
    return err;
  }
}

// A write on a leader that committed in its term skips ReadIndex (writeBarrier) and is checked on
// that leader's own state. ClusterOperations.apply then refuses to forward it or to commit it in
// another term. The operator raft routes do not go through apply, so they keep forwarding.
describe('review: writes authorized without ReadIndex stay in their term', () => {
  test('apply on a replaced leader', async () => {
    const driver = new RecordingDriver();
    const transport = new RecordingTransport();
    const operations = newOperations(driver, transport);
    driver.status = { ...driver.status, role: 'follower', leaderId: 2, term: BARRIER_TERM + 1 };

    const error = await outcome(() =>
      operations.withWriteTerm(BARRIER_TERM, () =>
        operations.apply({ type: 'namespace-delete', v: 1, name: 'web' }),
      ),
    );

    assert.ok(error instanceof RequestError, 'the write was refused');
    assert.equal(error.status, 500);
    assert.equal(transport.requests.length, 0, 'the command was not forwarded');
  });

  test('peer removal on a replaced leader', async () => {
    const driver = new RecordingDriver();
    const transport = new RecordingTransport();
    const operations = newOperations(driver, transport);
    // The ACL check passed on the old leader's copy, and then a message of term 6 arrived.
    driver.status = { ...driver.status, role: 'follower', leaderId: 2, term: BARRIER_TERM + 1 };

    const error = await outcome(() =>
      operations.withWriteTerm(BARRIER_TERM, () => operations.removePeer('3')),
    );

    assert.deepEqual(
      transport.requests.map((request) => request.frame.kind),
      [],
      'the removal was forwarded to the new leader on the strength of the old copy',
    );
    assert.ok(error instanceof RequestError, 'the removal was not refused');
    assert.equal(error.status, 500);
  });

  test('peer removal after re-election', async () => {
    const driver = new RecordingDriver();
    const transport = new RecordingTransport();
    const operations = newOperations(driver, transport);
    // Another leader ruled term 6 and may have deleted the token. This server leads term 7.
    driver.status = { ...driver.status, term: BARRIER_TERM + 2 };

    const error = await outcome(() =>
      operations.withWriteTerm(BARRIER_TERM, () => operations.removePeer('3')),
    );

    assert.deepEqual(driver.membershipProposals, [], 'the removal was proposed in term 7');
    assert.ok(error instanceof RequestError, 'the removal was not refused');
  });

  test('transfer on a replaced leader', async () => {
    const driver = new RecordingDriver();
    const transport = new RecordingTransport();
    const operations = newOperations(driver, transport);
    driver.status = { ...driver.status, role: 'follower', leaderId: 2, term: BARRIER_TERM + 1 };

    const error = await outcome(() =>
      operations.withWriteTerm(BARRIER_TERM, () => operations.transferLeadership('3')),
    );

    assert.deepEqual(
      transport.requests.map((request) => request.frame.kind),
      [],
      'the transfer was forwarded to the new leader on the strength of the old copy',
    );
    assert.ok(error instanceof RequestError, 'the transfer was not refused');
  });
});

const text = (value: string) => new TextEncoder().encode(value);

// ClusterOperations keeps the write's term in an AsyncLocalStorage. The driver schedules its flush
// with setImmediate from whichever caller came first, so the flush runs in that caller's context.
// So do the state machine, the observers that the flush calls, and every timer or promise they
// create: the agent's afterLeaderChange runs #reconcile and arms the heartbeat timers there.
describe('review: the Raft driver runs in its own async context', () => {
  test('flush ignores the proposer context', async (t) => {
    const cluster = new DriverCluster();
    await cluster.init();
    t.after(() => cluster.close());
    const member = await cluster.start(1, [1]);
    await waitFor(() => member.driver.status().role === 'leader', 10_000, 'a leader');
    await member.driver.propose(text('warm-up'));

    const context = new AsyncLocalStorage<number>();
    const seen = new Map<string, number | undefined>();
    const apply = member.machine.apply.bind(member.machine);
    member.machine.apply = (entry) => {
      seen.set(new TextDecoder().decode(entry.data), context.getStore());
      return apply(entry);
    };

    // One write inside an HTTP write's scope, one from elsewhere in the same turn (a client RPC).
    const inScope = context.run(BARRIER_TERM, () => member.driver.propose(text('http-write')));
    const outside = member.driver.propose(text('client-rpc'));
    await Promise.all([inScope, outside]);

    assert.equal(seen.get('http-write'), undefined, 'the flush ran in the HTTP write context');
    assert.equal(seen.get('client-rpc'), undefined, 'work of another caller ran in that context too');
  });
});
