import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The shim's C source, compiled at run time so that it matches this machine's libc. */
export const SHIM_SOURCE = fileURLToPath(new URL('./sync-shim.c', import.meta.url));
export const SHIM_LIBRARY = 'signet-sync-shim.so';

/** Returns why the sync shim cannot be built here, or null when gcc is installed. */
export async function shimBuildProblem(): Promise<string | null> {
  try {
    await run('gcc', ['--version']);
    return null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return 'gcc is not installed, and the sync shim is compiled with it at run time (Debian: apt-get install gcc)';
    return `gcc --version failed: ${(err as Error).message}`;
  }
}

/** Compiles the sync shim into `folder` and returns the path of the shared library. */
export async function buildSyncShim(folder: string): Promise<string> {
  const library = join(folder, SHIM_LIBRARY);
  try {
    await run('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', library, SHIM_SOURCE, '-ldl']);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`cannot compile the sync shim ${SHIM_SOURCE}: ${stderr || (err as Error).message}`);
  }
  return library;
}
