import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Agent entry point: the TypeScript sources through tsx, or the compiled `dist/`. */
export type AgentEntry = 'source' | 'dist';

const BUILT_MAIN = 'dist/src/cli/main.js';

/** Returns the nearest folder above this file that contains a package.json, so the launcher works from cluster/ and from dist/cluster/. */
export function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** Returns the node arguments that run `signet` from `entry`; the CLI's own arguments follow them. */
export function signetArgs(entry: AgentEntry, repoRoot: string): string[] {
  return entry === 'dist'
    ? [join(repoRoot, BUILT_MAIN)]
    : ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts')];
}

/**
 * Returns why the build in dist/ cannot be used (missing, or older than a source file under src/),
 * or null when it is current.
 */
export function staleBuildReason(repoRoot: string): string | null {
  const built = join(repoRoot, BUILT_MAIN);
  if (!existsSync(built)) return `missing ${built}`;
  // tsc rewrites every output file on each build, so main.js is as old as the last build.
  const newest = newestSourceFile(join(repoRoot, 'src'));
  if (newest !== null && newest.mtimeMs > statSync(built).mtimeMs) {
    return `${built} is older than ${newest.path}`;
  }
  return null;
}

/** Raises when `entry` is 'dist' and the build is missing or older than the sources. */
export function checkEntry(entry: AgentEntry | undefined, repoRoot: string): void {
  if (entry !== 'dist') return;
  const reason = staleBuildReason(repoRoot);
  if (reason !== null) throw new Error(`${reason}: run npm run build, or start from source`);
}

/** Returns the most recently modified .ts file under `dir`, or null when there is none. */
function newestSourceFile(dir: string): { path: string; mtimeMs: number } | null {
  let newest: { path: string; mtimeMs: number } | null = null;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(path);
    if (newest === null || mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
  }
  return newest;
}
