import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entry, HardState, NodeId, Role } from '../../src/raft/types.js';
import { AppState } from './app.js';
import { type CheckedServer, InvariantChecker, type ProposalLedger } from './checker.js';
import { DurableLog } from './durable-log.js';
import { type Invariant, Violation } from './violation.js';

const encoder = new TextEncoder();

const LOG: readonly Entry[] = [
  { kind: 'config', term: 1, index: 1, membership: { voters: [1, 2, 3], learners: [], removed: [] } },
  { kind: 'noop', term: 2, index: 2 },
  { kind: 'command', term: 2, index: 3, data: encoder.encode('w1') },
];

const acceptAll: ProposalLedger = { proposalOutcome: () => 'accepted' };

function server(
  id: NodeId,
  entries: readonly Entry[],
  hardState: HardState = { term: 2, vote: 0, commit: 0 },
): CheckedServer {
  return {
    id,
    incarnation: 1,
    durable: new DurableLog({ hardState, snapshot: null, entries }),
    app: new AppState(),
  };
}

/** Applies `entries` on `target` through the checker, as the driver does. */
function applyAll(checker: InvariantChecker, target: CheckedServer, entries: readonly Entry[]): void {
  for (const entry of entries) {
    checker.checkApply(target, entry);
    target.app.apply(entry);
  }
}

function status(role: Role, term: number, commit: number) {
  return { role, term, commit, applied: commit };
}

function violates(invariant: Invariant): (error: unknown) => boolean {
  return (error) => error instanceof Violation && error.invariant === invariant;
}

describe('invariant checker', () => {
  test('leader completeness spares a late leader of an old term', () => {
    const checker = new InvariantChecker(acceptAll);
    const follower = server(1, LOG);
    applyAll(checker, follower, LOG);
    checker.observe(follower, status('follower', 3, 3));

    // Votes granted in term 2 arrive late: a leader of term 2 may lack what term 3 committed.
    const lateLeader = server(2, LOG.slice(0, 2));
    applyAll(checker, lateLeader, LOG.slice(0, 2));
    checker.observe(lateLeader, status('leader', 2, 2));

    const newLeader = server(3, LOG.slice(0, 2));
    applyAll(checker, newLeader, LOG.slice(0, 2));
    assert.throws(() => checker.observe(newLeader, status('leader', 4, 2)), violates('leader-completeness'));
  });

  test('two leaders in one term', () => {
    const checker = new InvariantChecker(acceptAll);
    checker.observe(server(1, LOG), status('leader', 2, 0));
    assert.throws(() => checker.observe(server(2, LOG), status('leader', 2, 0)), violates('election-safety'));
  });

  test('different entries applied at one index', () => {
    const checker = new InvariantChecker(acceptAll);
    applyAll(checker, server(1, LOG), LOG);
    const other = server(2, LOG);
    const conflicting: Entry = { kind: 'command', term: 2, index: 3, data: encoder.encode('w2') };
    applyAll(checker, other, LOG.slice(0, 2));
    assert.throws(() => checker.checkApply(other, conflicting), violates('state-machine-safety'));
  });

  test('vote changed within a term', () => {
    const checker = new InvariantChecker(acceptAll);
    const voter = server(1, LOG, { term: 2, vote: 3, commit: 0 });
    const batch = {
      snapshot: null,
      truncateFrom: null,
      compactTo: null,
      entries: [],
      hardState: { term: 2, vote: 2, commit: 0 },
    };
    voter.durable.saveSync(batch);
    assert.throws(
      () => checker.afterPersist(voter, batch, { term: 2, vote: 3, commit: 0 }),
      violates('durable-state'),
    );
  });

  test('vote granted before it is durable', () => {
    const checker = new InvariantChecker(acceptAll);
    const voter = server(1, LOG, { term: 2, vote: 0, commit: 0 });
    const grant = {
      v: 1,
      from: 1,
      to: 2,
      term: 2,
      type: 'vote-response',
      preVote: false,
      granted: true,
    } as const;
    assert.throws(() => checker.beforeSend(voter, grant), violates('persist-before-send'));
  });

  test('read index behind the commit index at request time', () => {
    const checker = new InvariantChecker(acceptAll);
    const reader = server(1, LOG);
    applyAll(checker, reader, LOG);
    checker.observe(reader, status('leader', 2, 3));
    checker.readRequested(reader, 7);

    assert.throws(() => checker.checkReadState(reader, { index: 2, requestId: 7 }), violates('read-index'));
    checker.checkReadState(reader, { index: 3, requestId: 7 });
  });

  test('command that no accepted proposal made', () => {
    const checker = new InvariantChecker({ proposalOutcome: () => 'rejected' });
    const target = server(1, LOG);
    applyAll(checker, target, LOG.slice(0, 2));
    assert.throws(() => checker.checkApply(target, LOG[2]!), violates('command-integrity'));
  });
});
