import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllocDir, type TaskDirPaths } from '../../src/client/alloc-dir.js';
import type { TaskStartContext } from '../../src/client/drivers/driver.js';
import { readProcStat } from '../../src/client/drivers/proc-stat.js';
import type { Task } from '../../src/structs/job.js';

// Shared by the driver and task runner tests: temporary data folders, tasks, start contexts, and a
// list of every process group a test started, so that `killStartedGroups` leaves nothing running.

export const ALLOC_ID = '2f9c1f7e-7d44-4c1b-9a55-0c1d2e3f4a5b';

export function makeTask(
  driver: string,
  config: Record<string, unknown>,
  overrides: Partial<Task> = {},
): Task {
  return {
    Name: 'web',
    Driver: driver,
    Config: config,
    Env: null,
    Resources: { CPU: 100, MemoryMB: 64 },
    Identity: null,
    Identities: [],
    Templates: [],
    KillTimeout: 5_000_000_000,
    ...overrides,
  };
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'signet-client-'));
}

export async function removeDataDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Builds the task's folders under `dataDir` and returns a start context with `env`. */
export async function makeContext(
  dataDir: string,
  taskName: string,
  env: Record<string, string> = { PATH: '/usr/bin:/bin' },
  allocId = ALLOC_ID,
): Promise<TaskStartContext & { readonly taskDir: TaskDirPaths }> {
  const taskDir = await new AllocDir(dataDir, allocId).buildTaskDir(taskName);
  return { allocId, taskName, env, taskDir };
}

const startedGroups = new Set<number>();

/** Records a process group to kill after the test. */
export function trackGroup(pid: number): void {
  startedGroups.add(pid);
}

export function killStartedGroups(): void {
  for (const pgid of startedGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  startedGroups.clear();
}

/** True while the process exists and is not a zombie. */
export async function isRunning(pid: number): Promise<boolean> {
  const stat = await readProcStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/** Polls `condition` every 10 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(
  description: string,
  condition: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Contents of a file, or '' while it does not exist. */
export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}
