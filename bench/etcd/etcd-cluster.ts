import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { freePorts } from '../../cluster/free-port.js';
import { done, pending, waitFor } from '../../cluster/wait.js';

const HOST = '127.0.0.1';
const STOP_TIMEOUT_MS = 10_000;

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly logPath: string;
  /** Command-line flags of etcd, kept so that a killed member starts again with the same ones. */
  readonly args: readonly string[];
  process: ChildProcess;
}

/** A member as the status endpoint reports it: its name, client port and Raft member id. */
export interface EtcdMemberRef {
  readonly name: string;
  readonly clientPort: number;
  /** Member id as etcd's JSON gateway writes uint64 values: a decimal string. */
  readonly memberId: string;
}

/** Reply of etcd's `POST /v3/maintenance/status` on the HTTP/JSON gateway; uint64 fields are strings. */
interface StatusReply {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
  /** Index of the last entry in the member's Raft log. */
  readonly raftIndex?: string;
  /** Index of the last entry applied, which etcd 3.4.23 returns; without it the wait uses raftIndex. */
  readonly raftAppliedIndex?: string;
}

async function memberStatus(port: number, timeoutMs = 2_000): Promise<StatusReply> {
  const res = await fetch(`http://${HOST}:${port}/v3/maintenance/status`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (res.status !== 200) throw new Error(`status on port ${port} returned ${res.status}`);
  return (await res.json()) as StatusReply;
}

/**
 * A cluster of etcd members on 127.0.0.1 free ports, each with its data folder under `root`, as
 * the reference for Signet's Raft writes. etcd's defaults stay as they are, so its WAL is fsynced
 * before a write is acknowledged. Members log to `<root>/<name>.log`.
 */
export class EtcdCluster {
  readonly #members: Member[];
  readonly #killOnExit = () => {
    for (const member of this.#members) member.process.kill('SIGKILL');
  };

  private constructor(members: Member[]) {
    this.#members = members;
    process.once('exit', this.#killOnExit);
  }
  /** Process ids of the running members, for CPU accounting. */
  pids(): number[] {
    return this.#members.flatMap((member) => (member.process.pid === undefined ? [] : [member.process.pid]));
  }

  /** Starts `size` members and waits until each one reports the same leader. */
  static async start(size: number, root: string, timeoutMs = 30_000): Promise<EtcdCluster> {
    const ports = await freePorts(size * 2, HOST);
    const names = Array.from({ length: size }, (_, i) => `etcd-${i + 1}`);
    const peerUrl = (i: number) => `http://${HOST}:${ports[size + i]}`;
    const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(',');
    const members: Member[] = [];
    const cluster = new EtcdCluster(members);
    try {
      for (const [i, name] of names.entries()) {
        const dataDir = join(root, name);
        await mkdir(dataDir, { recursive: true });
        const logPath = join(root, `${name}.log`);
        const clientUrl = `http://${HOST}:${ports[i]}`;
        // On a restart etcd reads the membership from its data folder and ignores the
        // --initial-* flags, so the same flags serve the first start and every later one.
        const args = [
          `--name=${name}`,
          `--data-dir=${dataDir}`,
          `--listen-client-urls=${clientUrl}`,
          `--advertise-client-urls=${clientUrl}`,
          `--listen-peer-urls=${peerUrl(i)}`,
          `--initial-advertise-peer-urls=${peerUrl(i)}`,
          `--initial-cluster=${initialCluster}`,
          '--initial-cluster-token=signet-bench',
          '--initial-cluster-state=new',
          '--log-level=warn',
        ];
        members.push({
          name,
          clientPort: ports[i]!,
          logPath,
          args,
          process: await spawnMember(args, logPath),
        });
      }
      await cluster.leaderPort(timeoutMs);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Waits until every member reports the same leader, and returns that leader's client port. */
  async leaderPort(timeoutMs = 10_000): Promise<number> {
    return (await this.leader(timeoutMs)).clientPort;
  }

  /** Waits until every running member reports the same leader, and returns that leader. */
  leader(timeoutMs = 10_000): Promise<EtcdMemberRef> {
    return waitFor('etcd members to agree on a leader', { timeoutMs, intervalMs: 50 }, async () => {
      for (const member of this.#members) {
        if (member.process.exitCode !== null) {
          // The caller removes `root` afterwards, so the log's end goes into the error.
          const tail = readFileSync(member.logPath, 'utf8').trim().split('\n').slice(-3).join('\n');
          throw new Error(
            `${member.name} exited with status ${member.process.exitCode}; its log ends:\n${tail}`,
          );
        }
      }
      const replies = await Promise.all(this.#members.map((member) => memberStatus(member.clientPort)));
      const leader = replies[0]?.leader;
      if (leader === undefined || leader === '0' || replies.some((reply) => reply.leader !== leader)) {
        return pending('no agreed leader');
      }
      const index = replies.findIndex((reply) => reply.header?.member_id === leader);
      if (index < 0) return pending('the leader is not among the members');
      const member = this.#members[index]!;
      return done({ name: member.name, clientPort: member.clientPort, memberId: leader });
    });
  }

  /** Sends SIGKILL to the member and waits until its process has exited. */
  async kill(name: string): Promise<void> {
    const member = this.#member(name);
    if (member.process.exitCode !== null || member.process.signalCode !== null) {
      throw new Error(`cannot kill ${name}: it is not running`);
    }
    const exited = new Promise<void>((resolve) => member.process.once('exit', () => resolve()));
    member.process.kill('SIGKILL');
    await exited;
  }

  /**
   * Polls the status of every running member other than `formerLeader`, pausing `intervalMs`
   * between rounds, until one of them reports a leader that is neither none (`0`) nor
   * `formerLeader`. Returns that member's name and the new leader's id. The caller takes the time.
   */
  waitForNewLeader(
    formerLeader: EtcdMemberRef,
    timeoutMs = 30_000,
    intervalMs = 2,
  ): Promise<{ readonly reportedBy: string; readonly leaderId: string }> {
    const survivors = this.#members.filter(
      (member) => member.name !== formerLeader.name && member.process.exitCode === null,
    );
    return waitFor(
      `a new etcd leader other than ${formerLeader.name}`,
      { timeoutMs, intervalMs },
      async () => {
        const replies = await Promise.all(
          survivors.map((member) => memberStatus(member.clientPort, 1_000).catch(() => null)),
        );
        for (const [i, reply] of replies.entries()) {
          const leader = reply?.leader;
          if (leader !== undefined && leader !== '0' && leader !== formerLeader.memberId) {
            return done({ reportedBy: survivors[i]!.name, leaderId: leader });
          }
        }
        return pending(`survivors report ${replies.map((reply) => reply?.leader ?? 'no reply').join(', ')}`);
      },
    );
  }

  /** Starts a member that was killed again, on its data folder and with its earlier flags. */
  async restart(name: string): Promise<void> {
    const member = this.#member(name);
    if (member.process.exitCode === null && member.process.signalCode === null) {
      throw new Error(`cannot restart ${name}: it is still running`);
    }
    member.process = await spawnMember(member.args, member.logPath);
  }

  /**
   * Waits until `name` reports, in its status, the leader that the other members report and has
   * applied at least the leader's raft index read before the wait, so it has caught up.
   */
  async waitForCaughtUp(name: string, timeoutMs = 30_000): Promise<void> {
    const member = this.#member(name);
    const leader = await this.leader(timeoutMs);
    const target = await memberStatus(leader.clientPort);
    const targetIndex = Number(target.raftIndex ?? '0');
    await waitFor(`${name} to catch up with the etcd leader`, { timeoutMs, intervalMs: 20 }, async () => {
      const reply = await memberStatus(member.clientPort, 1_000);
      const applied = Number(reply.raftAppliedIndex ?? reply.raftIndex ?? '0');
      if (reply.leader !== leader.memberId) return pending(`${name} reports leader ${reply.leader}`);
      return applied >= targetIndex ? done(undefined) : pending(`applied ${applied} of ${targetIndex}`);
    });
  }

  #member(name: string): Member {
    const member = this.#members.find((candidate) => candidate.name === name);
    if (member === undefined) throw new Error(`no etcd member named ${name}`);
    return member;
  }

  /**
   * Sends SIGTERM to one member at a time, and SIGKILL to a member still running after
   * STOP_TIMEOUT_MS. One at a time because a leader stopped together with its followers tries to
   * hand leadership to them and waits seconds for it to fail.
   */
  async stop(): Promise<void> {
    process.removeListener('exit', this.#killOnExit);
    for (const member of this.#members) await stopMember(member);
  }
}

/** Starts one etcd process that appends its output to `logPath`. */
async function spawnMember(args: readonly string[], logPath: string): Promise<ChildProcess> {
  const log = await open(logPath, 'a');
  try {
    return spawn('etcd', [...args], { stdio: ['ignore', log.fd, log.fd] });
  } finally {
    await log.close();
  }
}

function stopMember(member: Member): Promise<void> {
  return new Promise((resolve) => {
    if (member.process.exitCode !== null || member.process.signalCode !== null) return resolve();
    const timer = setTimeout(() => member.process.kill('SIGKILL'), STOP_TIMEOUT_MS);
    member.process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    member.process.kill('SIGTERM');
  });
}
