import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { requestJson } from '../../../cluster/http-client.js';
import { done, pending, waitFor } from '../../../cluster/wait.js';
import { parseProcStat } from '../../../src/client/drivers/proc-stat.js';
import type { Allocation } from '../../../src/structs/allocation.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
/** Deadline for a start through tsx of up to 3 servers and a client while other test files share 2 cores. */
export const START_TIMEOUT_MS = 150_000;
/** Last words of the launcher's banner, printed once every agent is up. */
const BANNER_END = 'press Ctrl-C';
/** The banner's line with the cluster's folder. */
export const ROOT_LINE = /^(?:started|restarted) .* in (\S+) \(/m;
/** The banner's export line, with the HTTP address and the bootstrap token. */
export const TOKEN_LINE = /^\s*export NOMAD_ADDR=http:\/\/(\S+) NOMAD_TOKEN=(\S+)$/m;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One run of `cluster/start.ts` as a child process, with its output so far. */
export class StartProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<Exit>;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
    delete childEnv.NODE_TEST_CONTEXT;
    // A process group of its own, as a terminal gives a foreground command, so that a test can
    // signal the whole group as Ctrl-C or a closed terminal does.
    this.child = spawn(process.execPath, ['--import', 'tsx', 'cluster/start.ts', ...args], {
      cwd: REPO_ROOT,
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString('utf8');
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exited = new Promise((resolveExit) => {
      this.child.once('close', (code, signal) => resolveExit({ code, signal }));
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits for the end of the banner and returns the cluster's folder. */
  ready(): Promise<string> {
    return waitFor('the banner', { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 }, async () => {
      if (!this.running) throw new Error(`start.ts exited early:\n${this.output}`);
      const root = ROOT_LINE.exec(this.output);
      if (root === null || !this.output.includes(BANNER_END)) return pending(this.output.slice(-300));
      return done(root[1]!);
    });
  }

  /** Waits for the line with NOMAD_ADDR and NOMAD_TOKEN, and returns them with the cluster's folder. */
  readyWithToken(): Promise<{ address: string; token: string; root: string }> {
    return waitFor('the token line', { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 }, async () => {
      if (!this.running) throw new Error(`start.ts exited early:\n${this.output}`);
      const token = TOKEN_LINE.exec(this.output);
      const root = ROOT_LINE.exec(this.output);
      if (token === null || root === null) return pending(this.output.slice(-300));
      return done({ address: token[1]!, token: token[2]!, root: root[1]! });
    });
  }

  /** Waits until the launcher exits or prints its banner, and returns the exit or null after a banner. */
  exitOrBanner(timeoutMs: number): Promise<Exit | null> {
    return waitFor('an exit or the banner', { timeoutMs, intervalMs: 100 }, async () => {
      if (!this.running) return done(await this.exited);
      return this.output.includes(BANNER_END) ? done(null) : pending(this.output.slice(-300));
    });
  }

  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }

  /** Resolves with the exit, or null when the launcher still runs after `timeoutMs`. */
  async exitWithin(timeoutMs: number): Promise<Exit | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolveLate) => {
      timer = setTimeout(() => resolveLate(null), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends SIGINT to the launcher alone, or with `group` to its whole process group (the agents
   * too, but not the tasks, which lead sessions of their own), as Ctrl-C in a terminal does.
   * Returns how the launcher exited, after a SIGKILL if it still runs 60 s later.
   */
  async interrupt(group = false): Promise<Exit> {
    if (group) this.signalGroup('SIGINT');
    else this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Returns the pids of running (not zombie) processes whose command line names `root` (the agents,
 * through their -config path) or whose working folder is inside it (the tasks). A non-empty
 * `commandPart` keeps only those whose command line, arguments joined by spaces, contains it.
 */
export function processesUnder(root: string, commandPart = ''): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat === null || stat.state === 'Z' || stat.state === 'X') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if ((cmdline.includes(root) || cwd.startsWith(root)) && cmdline.includes(commandPart))
        found.push(Number(name));
    } catch {
      // The process exited while it was read.
    }
  }
  return found;
}

/** Kills with SIGKILL what a failed test left running under each folder, then removes the folder. */
export async function killAndRemoveFolders(roots: readonly string[]): Promise<void> {
  for (const root of roots) {
    for (const pid of processesUnder(root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await rm(root, { recursive: true, force: true });
  }
}

export function processRuns(pid: number): boolean {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
  } catch {
    return false;
  }
}

/** A service job whose raw_exec task writes its pid into the allocation folder and sleeps. */
export const SLEEPER_JOB = {
  Job: {
    ID: 'sleeper',
    Type: 'service',
    TaskGroups: [
      {
        Name: 'g',
        Count: 1,
        Tasks: [
          {
            Name: 'sleep',
            Driver: 'raw_exec',
            Config: {
              command: '/bin/sh',
              args: ['-c', 'echo $$ > "$NOMAD_ALLOC_DIR/data/pid"; exec sleep 300'],
            },
            Resources: { CPU: 100, MemoryMB: 32 },
          },
        ],
      },
    ],
  },
};

/**
 * Runs the sleeper job with `token` (empty without ACLs) and returns the pid of its task once it
 * runs. The task's allocation is read under `root`/client-1.
 */
export async function runSleeper(address: string, token: string, root: string): Promise<number> {
  const headers = { 'X-Nomad-Token': token };
  await requestJson(address, 'PUT', '/v1/jobs', { body: SLEEPER_JOB, headers });
  const alloc = await waitFor<Allocation>(
    'the sleeper to run',
    { timeoutMs: 90_000, intervalMs: 200 },
    async () => {
      const allocs = await requestJson<Allocation[]>(address, 'GET', '/v1/job/sleeper/allocations', {
        headers,
      });
      const running = allocs.find((candidate) => candidate.ClientStatus === 'running');
      return running === undefined ? pending(allocs.map((a) => a.ClientStatus).join(', ')) : done(running);
    },
  );
  const pidFile = join(root, 'client-1', 'data', 'alloc', alloc.ID, 'alloc', 'data', 'pid');
  return waitFor<number>('the task to write its pid', { timeoutMs: 30_000 }, async () => {
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    return /^\d+\n$/.test(text) ? done(Number(text)) : pending('no pid yet');
  });
}
