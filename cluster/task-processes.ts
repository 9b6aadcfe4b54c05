import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseProcStat } from '../src/client/drivers/proc-stat.js';
import { clientPaths } from '../src/client/node-identity.js';

/**
 * Finds and kills the raw_exec tasks that a client agent started. A task leads its own process
 * group (the driver spawns it detached), so it outlives its client, as Nomad's tasks do. A launcher
 * that promises to leave nothing running must therefore kill the groups itself.
 */

/** A task's process group as the client's local state records it. */
export interface TaskProcessGroup {
  /** The task's pid, which is also its process group id. */
  readonly pgid: number;
  /** Start time of the group leader in clock ticks since boot, to tell it from a later process with the same pid. */
  readonly startTime: string | null;
}

interface RecordedHandle {
  readonly driver?: unknown;
  readonly data?: { readonly pid?: unknown; readonly startTime?: unknown };
}

/**
 * Reads the raw_exec handles from the client's local state (`DATA_DIR/client/allocs/*.json`,
 * written by src/client/local-state.ts). Synchronous, so that a process 'exit' handler can use it.
 * A record that does not parse is skipped. The client renames each record into place whole, so a
 * half-written one is never read.
 */
export function recordedTaskProcessGroups(clientDataDir: string): TaskProcessGroup[] {
  const dir = clientPaths(clientDataDir).allocStateDir;
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const groups: TaskProcessGroup[] = [];
  for (const name of names) {
    let record: { tasks?: Record<string, { handle?: RecordedHandle | null }> };
    try {
      record = JSON.parse(readFileSync(join(dir, name), 'utf8')) as typeof record;
    } catch {
      continue;
    }
    for (const task of Object.values(record.tasks ?? {})) {
      if (task.handle?.driver !== 'raw_exec') continue;
      const data = task.handle.data;
      if (typeof data?.pid !== 'number' || !Number.isSafeInteger(data.pid) || data.pid <= 1) continue;
      groups.push({ pgid: data.pid, startTime: typeof data.startTime === 'string' ? data.startTime : null });
    }
  }
  return groups;
}

/**
 * Returns the pids of the processes in process group `pgid` that have not exited. Zombies are left
 * out: an orphaned task is reaped by the process that adopts it (init or a subreaper), maybe late, but it runs no code any more.
 */
export function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited while the folder was read
    }
    const stat = parseProcStat(text);
    if (stat !== null && stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X')
      members.push(Number(name));
  }
  return members;
}

/**
 * Returns true when `group` is still the task's group: its leader is the recorded process, or the
 * leader has exited and other members remain (Linux does not hand out a pid while a group uses it).
 */
function isTaskProcessGroup(group: TaskProcessGroup): boolean {
  let leader: string | null = null;
  try {
    leader = readFileSync(`/proc/${group.pgid}/stat`, 'utf8');
  } catch {
    // The leader is gone; its children may still be in the group.
  }
  const stat = leader === null ? null : parseProcStat(leader);
  if (stat !== null && stat.state !== 'Z' && stat.state !== 'X') {
    return group.startTime === null || stat.startTime === group.startTime;
  }
  return liveGroupMembers(group.pgid).length > 0;
}

/** Sends SIGKILL to every recorded task process group that still runs; returns the groups it signalled. */
export function killTaskProcessGroupsSync(clientDataDir: string): TaskProcessGroup[] {
  const killed: TaskProcessGroup[] = [];
  for (const group of recordedTaskProcessGroups(clientDataDir)) {
    if (!isTaskProcessGroup(group)) continue;
    try {
      process.kill(-group.pgid, 'SIGKILL');
      killed.push(group);
    } catch {
      // ESRCH: the group ended meanwhile.
    }
  }
  return killed;
}

/**
 * Kills every recorded task process group of the client and waits until none of their processes runs.
 * Raises when one is still running after `timeoutMs`. Call it once the client agent has stopped,
 * or it may start the tasks again.
 */
export async function killTaskProcessGroups(
  clientDataDir: string,
  timeoutMs = 10_000,
): Promise<TaskProcessGroup[]> {
  const killed = killTaskProcessGroupsSync(clientDataDir);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = killed.flatMap((group) => liveGroupMembers(group.pgid));
    if (left.length === 0) return killed;
    if (performance.now() > deadline) {
      throw new Error(`task processes ${left.join(', ')} still run ${timeoutMs} ms after SIGKILL`);
    }
    await delay(50);
  }
}
