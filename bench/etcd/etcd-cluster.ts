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
  readonly process: ChildProcess;
}

/** Reply of etcd's `POST /v3/maintenance/status` on the HTTP/JSON gateway; uint64 fields are strings. */
interface StatusReply {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
}

async function memberStatus(port: number): Promise<StatusReply> {
  const res = await fetch(`http://${HOST}:${port}/v3/maintenance/status`, {
    method: 'POST',
    body: '{}',
    signal: AbortSignal.timeout(2_000),
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
        const log = await open(logPath, 'a');
        const clientUrl = `http://${HOST}:${ports[i]}`;
        const child = spawn(
          'etcd',
          [
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
          ],
          { stdio: ['ignore', log.fd, log.fd] },
        );
        await log.close();
        members.push({ name, clientPort: ports[i]!, logPath, process: child });
      }
      await cluster.leaderPort(timeoutMs);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Waits until every member reports the same leader, and returns that leader's client port. */
  leaderPort(timeoutMs = 10_000): Promise<number> {
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
      return done(this.#members[index]!.clientPort);
    });
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
