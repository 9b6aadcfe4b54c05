import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSyncShim } from '../../../cluster/faults/unsynced/build-shim.js';

/** A temporary folder with the compiled sync shim, a recorded root and a journal path. */
export interface ShimFolder {
  readonly folder: string;
  readonly library: string;
  /** Real path of the folder whose files are recorded. */
  readonly root: string;
  readonly journal: string;
  remove(): Promise<void>;
}

export async function makeShimFolder(): Promise<ShimFolder> {
  const folder = await realpath(await mkdtemp(join(tmpdir(), 'signet-shim-test-')));
  try {
    const library = await buildSyncShim(folder);
    return {
      folder,
      library,
      root: join(folder, 'root'),
      journal: join(folder, 'journal'),
      remove: () => rm(folder, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(folder, { recursive: true, force: true });
    throw err;
  }
}

/** Returns the environment that runs a child under the shim, recording `root` into `journal`. */
export function shimEnv(shim: ShimFolder, root = shim.root): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_TEST_CONTEXT: undefined,
    LD_PRELOAD: shim.library,
    SIGNET_SYNC_ROOT: root,
    SIGNET_SYNC_JOURNAL: shim.journal,
    UV_USE_IO_URING: '0',
  };
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/** Runs `program` to its end and returns how it exited and what it printed on stderr. */
export function runToEnd(
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<ChildResult> {
  const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return exitOf(child);
}

export function exitOf(child: ChildProcess): Promise<ChildResult> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}
