/** Gap between table columns, as in Nomad's CLI tables. */
const COLUMN_GAP = '  ';

/** Formats rows under a header line, each column padded to its widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const render = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join(COLUMN_GAP)
      .trimEnd();
  return [render(header), ...rows.map(render)].map((line) => `${line}\n`).join('');
}

/** Formats `key = value` lines with the `=` signs aligned, as Nomad's status commands print them. */
export function formatKeyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs
    .map(([key, value]) => `${key.padEnd(width)} = ${value}`.trimEnd())
    .map((line) => `${line}\n`)
    .join('');
}
