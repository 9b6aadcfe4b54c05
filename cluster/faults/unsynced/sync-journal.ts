/** One line of a sync journal, as the sync shim appends it. */
export type JournalRecord =
  | { readonly kind: 'sync'; readonly size: number; readonly path: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string }
  | { readonly kind: 'exchange'; readonly from: string; readonly to: string }
  | { readonly kind: 'unlink'; readonly path: string };

/**
 * Parses a sync journal. A last line without its newline is left out: the process died while the
 * shim appended it, before the call returned, so the process never acted on that call. Raises on
 * any other line that is not a record, naming the line.
 */
export function parseJournal(text: string, source: string): JournalRecord[] {
  const lines = text.split('\n');
  // The element after the last newline is '' for a whole journal, or a torn last line.
  lines.pop();
  return lines.map((line, i) => parseLine(line, `${source}:${i + 1}`));
}

function parseLine(line: string, where: string): JournalRecord {
  const fields = line.split('\t');
  const [kind] = fields;
  const invalid = (problem: string) =>
    new Error(`invalid sync journal line ${where} ${JSON.stringify(line.slice(0, 200))}: ${problem}`);
  const path = (field: string | undefined): string => {
    if (field === undefined || !field.startsWith('/')) throw invalid('expected an absolute path');
    return field;
  };

  switch (kind) {
    case 'S': {
      if (fields.length !== 3) throw invalid('expected S, size and path separated by tabs');
      const size = Number(fields[1]);
      if (!/^[0-9]+$/.test(fields[1]!) || !Number.isSafeInteger(size))
        throw invalid('expected the size as a whole number of bytes');
      return { kind: 'sync', size, path: path(fields[2]) };
    }
    case 'R':
    case 'X':
      if (fields.length !== 3)
        throw invalid(`expected ${kind}, source path and target path separated by tabs`);
      return { kind: kind === 'R' ? 'rename' : 'exchange', from: path(fields[1]), to: path(fields[2]) };
    case 'U':
      if (fields.length !== 2) throw invalid('expected U and a path separated by a tab');
      return { kind: 'unlink', path: path(fields[1]) };
    default:
      throw invalid('expected a record of kind S, R, X or U');
  }
}

/**
 * Replays `records` in order and returns, for each path that exists after them, the size up to
 * which its content was synced. A sync sets the path's synced size, a rename moves the sizes of
 * the path and everything under it (a renamed folder carries its files along), an unlink drops
 * them. A path without a size was never synced under its current name.
 */
export function replayJournal(records: readonly JournalRecord[]): Map<string, number> {
  const synced = new Map<string, number>();
  for (const record of records) {
    switch (record.kind) {
      case 'sync':
        synced.set(record.path, record.size);
        break;
      case 'rename': {
        const moved = takeTree(synced, record.from);
        takeTree(synced, record.to);
        for (const [suffix, size] of moved) synced.set(record.to + suffix, size);
        break;
      }
      case 'exchange': {
        const first = takeTree(synced, record.from);
        const second = takeTree(synced, record.to);
        for (const [suffix, size] of first) synced.set(record.to + suffix, size);
        for (const [suffix, size] of second) synced.set(record.from + suffix, size);
        break;
      }
      case 'unlink':
        takeTree(synced, record.path);
        break;
    }
  }
  return synced;
}

/** Removes `path` and every path under it from `synced`, and returns them as suffixes of `path`. */
function takeTree(synced: Map<string, number>, path: string): [string, number][] {
  const removed: [string, number][] = [];
  for (const [entry, size] of synced) {
    if (entry === path || entry.startsWith(`${path}/`)) {
      removed.push([entry.slice(path.length), size]);
      synced.delete(entry);
    }
  }
  return removed;
}
