import { readInputFile } from './input-file.js';

/**
 * Builds a variable's items from the arguments of `var put`, in order, later ones winning:
 * - `@FILE` or `-` (stdin): a JSON variable specification, `{"Items": {"KEY": "VALUE", ...}}`;
 * - `KEY=VALUE`: one item; VALUE `@FILE` reads the value from a file, `-` from stdin.
 * Errors name the argument's position and never its value, which may be a secret.
 */
export async function itemsFromArgs(args: readonly string[]): Promise<Record<string, string>> {
  // A null-prototype object, filled with defineProperty: an item named `__proto__` (or any name of
  // Object.prototype) is then an own property that JSON.stringify sends, not a prototype change.
  const items: Record<string, string> = Object.create(null);
  for (const [position, arg] of args.entries()) {
    if (arg === '-' || arg.startsWith('@')) {
      const spec = await itemsFromSpec(arg === '-' ? '-' : arg.slice(1));
      for (const [key, value] of Object.entries(spec)) setItem(items, key, value);
      continue;
    }
    const equals = arg.indexOf('=');
    if (equals <= 0) {
      throw new Error(
        `invalid item argument ${position + 1} after the path: expected KEY=VALUE, @FILE or - (stdin)`,
      );
    }
    const key = arg.slice(0, equals);
    const value = arg.slice(equals + 1);
    if (value === '-') setItem(items, key, await readInputFile('-', `the value of item ${key}`));
    else if (value.startsWith('@'))
      setItem(items, key, await readInputFile(value.slice(1), `the value of item ${key}`));
    else setItem(items, key, value);
  }
  return items;
}

function setItem(items: Record<string, string>, key: string, value: string): void {
  Object.defineProperty(items, key, { value, enumerable: true, writable: true, configurable: true });
}

async function itemsFromSpec(path: string): Promise<Record<string, string>> {
  const origin = path === '-' ? '<stdin>' : path;
  const text = await readInputFile(path, 'the variable specification');
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    // The parser's message quotes the text, which may contain secrets.
    throw new Error(`invalid JSON in the variable specification ${origin}`);
  }
  const items = isRecord(spec) ? spec.Items : undefined;
  if (!isRecord(items) || !Object.values(items).every((value) => typeof value === 'string')) {
    throw new Error(
      `invalid variable specification ${origin}: expected {"Items": {"KEY": "VALUE", ...}} with string values`,
    );
  }
  return items as Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
