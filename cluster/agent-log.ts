import type { ServerHandle } from './server-handle.js';

/** Parses an agent log (pino JSON lines); lines that are not JSON objects are skipped. */
export function parseLogLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut short by SIGKILL is not JSON, and nothing reads it.
    }
  }
  return lines;
}

/**
 * Returns the Raft indexes of the snapshots that the current process of `server` restored, from
 * its `restored a snapshot` log lines: on start from its own data, or sent by the leader.
 */
export async function restoredSnapshotIndexes(server: ServerHandle): Promise<number[]> {
  return parseLogLines(await server.readLog())
    .filter((line) => line.msg === 'restored a snapshot')
    .map((line) => Number(line.index));
}
