import { readFileSync } from 'node:fs';

/**
 * Clock ticks per second of the `utime` and `stime` fields of /proc/PID/stat: USER_HZ, which Linux
 * fixes at 100 for userspace on the common architectures (`getconf CLK_TCK` prints it).
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** Returns the CPU time (user + system) a process has used, in ms, or null when /proc cannot tell. */
export function cpuTimeMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name in brackets may contain spaces, so the fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
}

/** Returns the CPU time of all `pids` together, in ms, or null when one of them cannot be read. */
export function sumCpuTimeMs(pids: readonly (number | undefined)[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const ms = cpuTimeMs(pid);
    if (ms === null) return null;
    total += ms;
  }
  return total;
}
