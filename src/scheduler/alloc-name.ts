/** Names an allocation as Nomad does: `JOB.GROUP[INDEX]`, with the job's ID. */
export function allocName(jobId: string, group: string, index: number): string {
  return `${jobId}.${group}[${index}]`;
}

/**
 * Returns the index in an allocation name, or -1 when the name does not end in `[N]`. Only the
 * suffix is read because job and group names may themselves contain dots and brackets.
 */
export function allocNameIndex(name: string): number {
  if (!name.endsWith(']')) return -1;
  const open = name.lastIndexOf('[');
  if (open === -1) return -1;
  const digits = name.slice(open + 1, -1);
  if (!/^\d+$/.test(digits)) return -1;
  return Number(digits);
}

/** Returns the `count` lowest indexes that are not in `used`. */
export function freeIndexes(used: ReadonlySet<number>, count: number): number[] {
  const free: number[] = [];
  for (let index = 0; free.length < count; index++) {
    if (!used.has(index)) free.push(index);
  }
  return free;
}
