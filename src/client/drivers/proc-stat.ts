import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** The fields of /proc/PID/stat (proc(5)) that the raw_exec driver uses. */
export interface ProcStat {
  /** R, S, D, Z (zombie), X (dead), T... */
  readonly state: string;
  readonly pgrp: number;
  /** Field 22: start time in clock ticks since boot, kept as a string to stay exact. */
  readonly startTime: string;
  /** Field 52 (Linux 3.5+): the wait status of an exited process; null when the kernel hides it. */
  readonly exitStatus: number | null;
}

/**
 * Parses /proc/PID/stat. The command name (field 2) is in parentheses and may itself contain spaces
 * and parentheses, so the fields are split after the last ')'.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // fields[0] is field 3 (state).
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = fields[19];
  if (state === undefined || startTime === undefined || !/^\d+$/.test(startTime) || !Number.isInteger(pgrp)) {
    return null;
  }
  const exitField = fields[49];
  const exitStatus = exitField !== undefined && /^\d+$/.test(exitField) ? Number(exitField) : null;
  return { state, pgrp, startTime, exitStatus };
}

/** Reads a process's stat; null when the process does not exist (or /proc is not there). */
export async function readProcStat(pid: number): Promise<ProcStat | null> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

/**
 * Reads a process's stat synchronously, for the moment right after spawn: reading before the event loop runs again
 * guarantees that libuv has not reaped the child yet, so its entry still exists even if it already
 * exited.
 */
export function readProcStatSync(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

let bootId: string | null | undefined;

/** This boot's random id (/proc/sys/kernel/random/boot_id); start times are only comparable within one boot. */
export function readBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}
