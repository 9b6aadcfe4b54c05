import { RAFT_DEFAULTS } from '../../../src/raft/config.js';
import { RaftError } from '../../../src/raft/errors.js';
import type { MembershipChange, NodeId } from '../../../src/raft/types.js';
import { Args, parseId } from './args.js';
import { runCheck } from './checks.js';
import { Cluster, type MessageFilter } from './cluster.js';
import { formatEntry, formatMembership, formatSnapshot } from './format.js';
import { encodeAppState, ScriptError, type ServerOptions } from './server.js';

const encoder = new TextEncoder();

/** State that one command leaves for the next. */
export interface CommandContext {
  cluster: Cluster;
  /** Error code that the previous command's call into the core raised, if any. */
  lastError: string | null;
  /** Whether command output goes into the transcript; `log-level none` records only `ok`. */
  verbose: boolean;
}

type Handler = (context: CommandContext, args: Args) => void;

/** Reads the Raft options that `add-nodes`, `add-learner-node` and `restart` accept. */
function serverOptions(args: Args): ServerOptions {
  const options: Record<string, number | boolean> = {};
  const set = (field: string, value: number | boolean | undefined): void => {
    if (value !== undefined) options[field] = value;
  };
  set('preVote', args.boolOption('pre-vote'));
  set('checkQuorum', args.boolOption('check-quorum'));
  set('electionTicks', args.intOption('election'));
  set('heartbeatTicks', args.intOption('heartbeat'));
  set('maxInflightAppends', args.intOption('max-inflight'));
  set('maxInflightBytes', args.intOption('max-inflight-bytes'));
  set('maxAppendBytes', args.intOption('max-append-bytes'));
  set('maxAppendEntries', args.intOption('max-append-entries'));
  set('maxUncommittedBytes', args.intOption('max-uncommitted-bytes'));
  set('snapshotChunkBytes', args.intOption('snapshot-chunk'));
  set('snapshotTrailingEntries', args.intOption('trailing'));
  set('transferTimeoutTicks', args.intOption('transfer-timeout'));
  return options as ServerOptions;
}

function filterOf(args: Args, from = 0): MessageFilter {
  return { to: args.nodes(from), from: args.nodeListOption('from'), kinds: args.listOption('type') };
}

/** Runs a call into the core and reports a RaftError by its code instead of failing the script. */
function callCore(context: CommandContext, call: () => string | undefined): void {
  try {
    const result = call();
    if (result !== undefined) context.cluster.out.push(result);
  } catch (error) {
    if (!(error instanceof RaftError)) throw error;
    context.lastError = error.code;
    context.cluster.out.push(`error code=${error.code} leader=${error.leaderId}`);
  }
}

const handlers: Record<string, Handler> = {
  'add-nodes': ({ cluster }, args) => cluster.addNodes(args.int(0), serverOptions(args)),
  'add-learner-node': ({ cluster }, args) => cluster.addLearnerNode(args.node(0), serverOptions(args)),
  'set-random': ({ cluster }, args) => {
    const values = args.word(1).split(',').map(Number);
    if (values.some((value) => !Number.isSafeInteger(value) || value < 0)) {
      throw new ScriptError(`set-random: expected non-negative integers, got ${args.word(1)}`);
    }
    cluster.get(args.node(0)).setRandom(values);
  },

  campaign: ({ cluster }, args) => cluster.touch(args.node(0), (server) => server.live.campaign()),
  tick: ({ cluster }, args) => cluster.tick(args.node(0), args.int(1)),
  'tick-election': ({ cluster }, args) => {
    const server = cluster.get(args.node(0));
    cluster.tick(server.id, server.options.electionTicks ?? RAFT_DEFAULTS.electionTicks);
  },
  'tick-heartbeat': ({ cluster }, args) => {
    const server = cluster.get(args.node(0));
    cluster.tick(server.id, server.options.heartbeatTicks ?? RAFT_DEFAULTS.heartbeatTicks);
  },

  propose: (context, args) => {
    const id = args.node(0);
    const data = encoder.encode(args.word(1));
    callCore(context, () =>
      context.cluster.touch(id, (server) => {
        const { index, term } = server.live.propose(data);
        return `proposed index=${index} term=${term}`;
      }),
    );
  },
  'propose-membership': (context, args) => {
    const id = args.node(0);
    const type = args.word(1);
    if (type !== 'add-learner' && type !== 'promote' && type !== 'remove') {
      throw new ScriptError(`propose-membership: unknown change '${type}'`);
    }
    const change: MembershipChange = { type, nodeId: args.node(2) };
    callCore(context, () =>
      context.cluster.touch(id, (server) => {
        const { index, term } = server.live.proposeMembership(change);
        return `proposed index=${index} term=${term}`;
      }),
    );
  },
  'transfer-leadership': (context, args) => {
    const target = args.node(1);
    callCore(context, () =>
      context.cluster.touch(args.node(0), (server) => {
        server.live.transferLeadership(target);
        return undefined;
      }),
    );
  },
  'read-index': (context, args) => {
    const requestId = args.int(1);
    callCore(context, () =>
      context.cluster.touch(args.node(0), (server) => {
        server.live.readIndex(requestId);
        return undefined;
      }),
    );
  },
  compact: (context, args) => {
    const index = args.int(1);
    callCore(context, () =>
      context.cluster.touch(args.node(0), (server) => {
        const data = encodeAppState(server.app.filter((command) => command.index <= index));
        server.live.compact(index, data);
        return undefined;
      }),
    );
  },
  'report-unreachable': ({ cluster }, args) => {
    const target = args.node(1);
    cluster.touch(args.node(0), (server) => server.live.reportUnreachable(target));
  },

  'process-ready': ({ cluster }, args) => {
    for (const id of args.nodes()) {
      if (!cluster.processReady(id)) cluster.out.push(`> ${id} no ready`);
    }
  },
  ready: ({ cluster }, args) => cluster.takeReady(args.node(0)),
  persist: ({ cluster }, args) => cluster.persist(args.node(0)),
  advance: ({ cluster }, args) => cluster.advance(args.node(0)),
  'deliver-msgs': ({ cluster }, args) => {
    const filter = filterOf(args);
    const drop = args.nodeListOption('drop');
    if (cluster.deliver(filter, drop) === 0) cluster.out.push('no messages');
  },
  'drop-msgs': ({ cluster }, args) => cluster.dropMessages(filterOf(args)),
  'dup-msgs': ({ cluster }, args) => cluster.duplicateMessages(filterOf(args)),
  'reorder-msgs': ({ cluster }, args) => cluster.reorderMessages(args.node(0)),
  stabilize: ({ cluster }, args) => cluster.stabilize(args.nodes()),

  partition: ({ cluster }, args) =>
    cluster.partition(
      args.positional.map((group) => group.split(',').map((word) => parseId(word, 'partition group'))),
    ),
  heal: ({ cluster }) => cluster.heal(),
  reset: (context) => {
    context.cluster = new Cluster();
  },
  'log-level': (context, args) => {
    const level = args.word(0);
    if (level !== 'none' && level !== 'all')
      throw new ScriptError(`log-level: expected none or all, got ${level}`);
    context.verbose = level === 'all';
  },
  crash: ({ cluster }, args) => cluster.crash(args.node(0)),
  restart: ({ cluster }, args) => cluster.restart(args.node(0), serverOptions(args)),

  status: ({ cluster }, args) => printStatus(cluster, args.node(0)),
  'raft-state': ({ cluster }) => {
    for (const id of cluster.ids()) {
      const server = cluster.get(id);
      if (server.node === null) {
        cluster.out.push(`${id}: down`);
        continue;
      }
      const s = server.node.status();
      cluster.out.push(
        `${id}: ${s.role} term=${s.term} vote=${s.vote} leader=${s.leaderId} commit=${s.commit} last=${s.lastIndex} (${formatMembership(s.membership)})`,
      );
    }
  },
  'raft-log': ({ cluster }, args) => {
    const durable = cluster.get(args.node(0)).durable;
    const { term, vote, commit } = durable.hardState;
    cluster.out.push(`hard-state term=${term} vote=${vote} commit=${commit}`);
    if (durable.snapshot !== null) cluster.out.push(`snapshot ${formatSnapshot(durable.snapshot)}`);
    for (const entry of durable.entries) cluster.out.push(formatEntry(entry));
  },
  applied: ({ cluster }, args) => {
    const server = cluster.get(args.node(0));
    const commands = server.app.map((command) => `${command.index}:${command.data}`).join(' ');
    cluster.out.push(`applied-index=${server.appliedIndex} app=[${commands}]`);
  },
};

function printStatus(cluster: Cluster, id: NodeId): void {
  const status = cluster.get(id).live.status();
  cluster.out.push(
    `role=${status.role} term=${status.term} vote=${status.vote} leader=${status.leaderId} transfer-target=${status.transferTarget}`,
    `commit=${status.commit} applied=${status.applied} first-index=${status.firstIndex} last-index=${status.lastIndex} snapshot-index=${status.snapshotIndex}`,
    `membership ${formatMembership(status.membership)}`,
  );
  for (const progress of cluster.get(id).live.followerProgress()) {
    cluster.out.push(
      `progress ${progress.id}: ${progress.state} match=${progress.match} next=${progress.next}`,
    );
  }
}

/** Runs one command line and returns its output lines. */
export function runCommand(context: CommandContext, line: string): string[] {
  const args = new Args(line);
  context.cluster.out = [];
  if (args.command === 'check') {
    runCheck(context.cluster, line.split(/\s+/).slice(1), context.lastError);
    return ['ok'];
  }
  const handler = handlers[args.command];
  if (handler === undefined) throw new ScriptError(`unknown command '${args.command}'`);
  context.lastError = null;
  handler(context, args);
  args.done();
  const out = context.cluster.out;
  return context.verbose && out.length > 0 ? out : ['ok'];
}
