/**
 * Matches a node's datacenter against a job's `datacenters` entry. As in Nomad (job
 * specification, v1.6 docs), `*` matches any run of characters, including none, and is the only
 * wildcard. So `dc-*` matches `dc-east`, and `*`, the default, matches every datacenter.
 */
export function matchesDatacenter(pattern: string, datacenter: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === datacenter;

  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (first.length + last.length > datacenter.length) return false;
  if (!datacenter.startsWith(first) || !datacenter.endsWith(last)) return false;

  // The middle parts must appear in order between the prefix and the suffix. Taking the earliest
  // match of each leaves the most room for the rest, so a greedy scan is exact.
  let position = first.length;
  const end = datacenter.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = datacenter.indexOf(part, position);
    if (found === -1 || found + part.length > end) return false;
    position = found + part.length;
  }
  return true;
}

/** True when any of the job's datacenter patterns matches the node's datacenter. */
export function jobAllowsDatacenter(patterns: readonly string[], datacenter: string): boolean {
  return patterns.some((pattern) => matchesDatacenter(pattern, datacenter));
}
