import type { NodeId } from '../../../src/raft/types.js';
import { parseId, parseInteger } from './args.js';
import type { Cluster } from './cluster.js';
import { durableLastIndex, ScriptError, type ScriptServer } from './server.js';

/** A `check` whose condition does not hold: the scenario fails with this message. */
export class CheckError extends Error {
  override readonly name = 'CheckError';
}

type Operator = '=' | '!=' | '>=' | '<=' | '>' | '<';

interface Condition {
  readonly key: string;
  readonly op: Operator;
  readonly value: string;
}

/**
 * Runs a `check` line. Forms:
 * - `check ID key<op>value ...` compares fields of one server (see `nodeField`);
 * - `check leader=ID [term=T]`: ID leads, and no other live server leads in its term;
 * - `check leaders=N`: N live servers are in the leader role;
 * - `check error=CODE` or `check error=none`: what the previous command raised;
 * - `check msgs=N [to=ID] [from=ID] [type=KIND]`: queued messages matching the filter.
 */
export function runCheck(cluster: Cluster, words: readonly string[], lastError: string | null): void {
  const first = words[0];
  if (first !== undefined && /^\d+$/.test(first)) {
    const server = cluster.get(parseId(first, 'check'));
    if (words.length < 2) throw new ScriptError(`check ${first}: expected conditions after the node id`);
    for (const condition of words.slice(1).map(parseCondition)) {
      compare(`node ${server.id} ${condition.key}`, nodeField(server, condition.key), condition);
    }
    return;
  }

  const conditions = words.map(parseCondition);
  const byKey = new Map(conditions.map((condition) => [condition.key, condition]));
  const leader = byKey.get('leader');
  if (leader !== undefined) checkLeader(cluster, parseId(leader.value, 'check leader'), byKey.get('term'));
  const leaders = byKey.get('leaders');
  if (leaders !== undefined) {
    const count = cluster.ids().filter((id) => cluster.get(id).node?.status().role === 'leader').length;
    compare('number of leaders', String(count), leaders);
  }
  const error = byKey.get('error');
  if (error !== undefined) compare('error of the previous command', lastError ?? 'none', error);
  const msgs = byKey.get('msgs');
  if (msgs !== undefined) {
    const to = byKey.get('to');
    const from = byKey.get('from');
    const kind = byKey.get('type');
    const count = cluster.queued({
      to: to === undefined ? [] : [parseId(to.value, 'check to')],
      from: from === undefined ? [] : [parseId(from.value, 'check from')],
      kinds: kind === undefined ? [] : [kind.value],
    }).length;
    compare('number of queued messages', String(count), msgs);
  }
  const known = new Set(['leader', 'term', 'leaders', 'error', 'msgs', 'to', 'from', 'type']);
  const unknown = conditions.filter((condition) => !known.has(condition.key));
  if (unknown.length > 0 || conditions.length === 0) {
    throw new ScriptError(`check: unknown form '${words.join(' ')}'`);
  }
}

function checkLeader(cluster: Cluster, id: NodeId, term: Condition | undefined): void {
  const server = cluster.get(id);
  const status = server.node?.status();
  if (status === undefined || status.role !== 'leader') {
    throw new CheckError(`expected node ${id} to be the leader, but it is ${status?.role ?? 'down'}`);
  }
  if (term !== undefined) compare(`term of leader ${id}`, String(status.term), term);
  for (const other of cluster.ids()) {
    const otherStatus = cluster.get(other).node?.status();
    if (other !== id && otherStatus?.role === 'leader' && otherStatus.term === status.term) {
      throw new CheckError(`node ${other} also leads term ${status.term}`);
    }
  }
}

function parseCondition(word: string): Condition {
  const match = /^([a-z][a-z0-9.-]*)(!=|>=|<=|=|>|<)(.*)$/.exec(word);
  if (match === null) throw new ScriptError(`check: cannot parse condition '${word}'`);
  return { key: match[1]!, op: match[2] as Operator, value: match[3]! };
}

function compare(subject: string, actual: string, condition: Condition): void {
  const { op, value } = condition;
  let satisfied: boolean;
  if (op === '=' || op === '!=') {
    satisfied = (actual === value) === (op === '=');
  } else {
    const left = parseInteger(actual, subject);
    const right = parseInteger(value, `check ${condition.key}`);
    satisfied = compareNumbers(left, op, right);
  }
  if (!satisfied) {
    const shown = actual === '' ? '(empty)' : actual;
    throw new CheckError(`expected ${subject} ${op} ${value}, but it is ${shown}`);
  }
}

function compareNumbers(left: number, op: '>=' | '<=' | '>' | '<', right: number): boolean {
  switch (op) {
    case '>=':
      return left >= right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '<':
      return left < right;
  }
}

/**
 * Reads one field of a server. Core state: role, term, vote, leader, commit, applied, first-index,
 * last-index, snapshot-index, transfer-target, voters, learners, removed, has-ready; leader
 * progress of follower N: match.N, next.N, state.N. Storage: durable-term, durable-vote,
 * durable-commit, durable-last-index, durable-first-index, durable-snapshot-index. State machine:
 * app (applied commands, comma-separated), read-states (`req@index` list), failed-reads. And down.
 */
function nodeField(server: ScriptServer, key: string): string {
  const durable = server.durable;
  switch (key) {
    case 'down':
      return String(server.node === null);
    case 'durable-term':
      return String(durable.hardState.term);
    case 'durable-vote':
      return String(durable.hardState.vote);
    case 'durable-commit':
      return String(durable.hardState.commit);
    case 'durable-last-index':
      return String(durableLastIndex(durable));
    case 'durable-first-index':
      return String(durable.entries[0]?.index ?? durableLastIndex(durable) + 1);
    case 'durable-snapshot-index':
      return String(durable.snapshot?.meta.index ?? 0);
    case 'app':
      return server.app.map((command) => command.data).join(',');
    case 'read-states':
      return server.readStates.map((read) => `${read.requestId}@${read.index}`).join(',');
    case 'failed-reads':
      return server.failedReads.join(',');
  }

  const node = server.live;
  const status = node.status();
  const progress = /^(match|next|state)\.(\d+)$/.exec(key);
  if (progress !== null) {
    const follower = node.followerProgress().find((entry) => entry.id === Number(progress[2]));
    if (follower === undefined) return 'none';
    return String(follower[progress[1] as 'match' | 'next' | 'state']);
  }
  switch (key) {
    case 'role':
      return status.role;
    case 'term':
      return String(status.term);
    case 'vote':
      return String(status.vote);
    case 'leader':
      return String(status.leaderId);
    case 'commit':
      return String(status.commit);
    case 'applied':
      return String(status.applied);
    case 'first-index':
      return String(status.firstIndex);
    case 'last-index':
      return String(status.lastIndex);
    case 'snapshot-index':
      return String(status.snapshotIndex);
    case 'transfer-target':
      return String(status.transferTarget);
    case 'voters':
      return status.membership.voters.join(',');
    case 'learners':
      return status.membership.learners.join(',');
    case 'removed':
      return status.membership.removed.join(',');
    case 'has-ready':
      return String(node.hasReady());
  }
  throw new ScriptError(`check: unknown field '${key}'`);
}
