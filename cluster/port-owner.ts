import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** State of a listening socket in /proc/net/tcp. */
const TCP_LISTEN = '0A';

/**
 * Pids of the processes that listen on TCP `port`, read from /proc. Returns null where /proc
 * cannot tell (not Linux), so that callers fall back to whatever replies on the port. With
 * `among`, it reads those processes' own socket tables, so it also finds a process that
 * listens in another network namespace than this one.
 */
export function listenerPids(port: number, among?: readonly number[]): number[] | null {
  // This process's own table is always read. A process of `among` that has already exited has no
  // table left, and without any table the caller would trust any process that replies on the port.
  const tables = ['/proc/net', ...new Set((among ?? []).map((pid) => `/proc/${pid}/net`))];
  const inodes = listeningInodes(port, tables);
  if (inodes === null) return null;
  if (inodes.size === 0) return [];
  const pids =
    among ??
    readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  return pids.filter((pid) => socketInodes(pid).some((inode) => inodes.has(inode)));
}

function listeningInodes(port: number, folders: readonly string[]): Set<string> | null {
  const inodes = new Set<string>();
  let readAny = false;
  for (const table of folders.flatMap((folder) => [`${folder}/tcp`, `${folder}/tcp6`])) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    readAny = true;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      if (local === undefined || fields[3] !== TCP_LISTEN || fields[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  return readAny ? inodes : null;
}

function socketInodes(pid: number): string[] {
  const found: string[] = [];
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    // The process exited, or belongs to another user.
    return found;
  }
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match !== null) found.push(match[1]!);
    } catch {
      // The descriptor closed while it was read.
    }
  }
  return found;
}
