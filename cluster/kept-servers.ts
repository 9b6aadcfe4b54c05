import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readAgentConfig, type ServerConfigSpec } from './agent-config-file.js';

/** Marker file in the folder of a removed server, so that a kept cluster folder does not start it again. */
export const REMOVED_MARKER = 'removed';
export const SERVER_FOLDER = /^s(\d+)$/;

/**
 * Reads the launcher configs kept in `root` from an earlier run. Removed servers and servers
 * with another cluster key than the first one's are left out.
 */
export async function readKeptServers(root: string): Promise<ServerConfigSpec[]> {
  const specs: ServerConfigSpec[] = [];
  const entries = await readdir(root, { withFileTypes: true });
  const folders = entries
    .filter((entry) => entry.isDirectory() && SERVER_FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  for (const folder of folders) {
    const dir = join(root, folder);
    if (existsSync(join(dir, REMOVED_MARKER)) || !existsSync(join(dir, 'config.json'))) continue;
    specs.push(await readKeptConfig(join(dir, 'config.json')));
  }
  return specs.filter((spec) => spec.encrypt === specs[0]!.encrypt);
}

/** readAgentConfig, with the file's path in every error: a JSON parse error alone names no file. */
async function readKeptConfig(path: string): Promise<ServerConfigSpec> {
  try {
    return await readAgentConfig(path);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes(path)) throw err;
    throw new Error(
      `invalid launcher config ${path}: ${message}; fix it, or remove the folder to start a new cluster`,
    );
  }
}
