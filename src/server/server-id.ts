import { randomInt } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Server ids are below 2^48: `crypto.randomInt` draws at most that range, and a JS number is exact there. */
const MAX_SERVER_ID = 2 ** 48;

/**
 * Reads this server's Raft id from `file`, or draws a new one on first start and makes it durable
 * before any Raft state exists. The id must never change for a data folder: other servers know
 * this server by it, and the core never admits a removed id again. A server started with an empty
 * data folder therefore joins as a new member.
 */
export async function loadOrCreateServerId(file: string): Promise<number> {
  let text: string | null = null;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text !== null) return parseServerId(text, file);

  const id = randomInt(1, MAX_SERVER_ID);
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(`${id}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  const folder = await open(dirname(file), 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return id;
}

function parseServerId(text: string, file: string): number {
  const trimmed = text.trim();
  const id = Number(trimmed);
  if (!/^[0-9]+$/.test(trimmed) || !Number.isSafeInteger(id) || id < 1 || id >= MAX_SERVER_ID) {
    throw new Error(
      `invalid server id ${JSON.stringify(trimmed.slice(0, 40))} in ${file}: expected a whole number from 1 to ${MAX_SERVER_ID - 1}; restore the file from a backup, or start this server with an empty data folder so it joins as a new member`,
    );
  }
  return id;
}

/**
 * Returns the paths of a server's folder inside data_dir (Nomad's `server/` folder) and of its id,
 * Raft storage and founding promise inside it.
 */
export function serverPaths(dataDir: string): {
  serverDir: string;
  idFile: string;
  raftDir: string;
  promiseFile: string;
} {
  return {
    serverDir: join(dataDir, 'server'),
    idFile: join(dataDir, 'server', 'node-id'),
    raftDir: join(dataDir, 'server', 'raft'),
    promiseFile: join(dataDir, 'server', 'founding-promise'),
  };
}
