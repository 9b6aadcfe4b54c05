/** Name of an environment variable in a rendered `env = true` template. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A rendered `env = true` template whose text is not a list of KEY=VALUE lines. `line` is 1-based. */
export class TemplateEnvError extends Error {
  override readonly name = 'TemplateEnvError';
  readonly line: number;

  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.line = line;
  }
}

/**
 * Reads the variables of a rendered template with `env = true`, following the rules of
 * hashicorp/go-envparse, which Nomad reads such files with:
 *
 * - one `KEY=VALUE` per line, with an optional `export ` before the key and spaces around both;
 *   blank lines and lines starting with `#` are skipped;
 * - a value may mix unquoted, single-quoted and double-quoted parts. Unquoted text ends at a `#`
 *   (a comment) and is trimmed. Single quotes keep their text as it is. Double quotes accept the
 *   escapes `\n`, `\t`, `\r`, `\"` and `\\`;
 * - control characters are invalid, so a value that needs a newline writes `\n` in double quotes;
 * - a later line overrides an earlier one with the same key.
 *
 * Throws TemplateEnvError naming the line. The messages never repeat a value, which may be a secret.
 */
export function parseTemplateEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;

    const equals = line.indexOf('=');
    if (equals < 0) throw new TemplateEnvError(lineNumber, 'missing "=": expected KEY=VALUE');
    let key = line.slice(0, equals).trim();
    if (key.startsWith('export ')) key = key.slice('export '.length).trim();
    if (!ENV_NAME.test(key)) {
      throw new TemplateEnvError(
        lineNumber,
        `invalid variable name ${JSON.stringify(key.slice(0, 64))}: expected a letter or "_", then letters, digits or "_"`,
      );
    }
    env[key] = readValue(line.slice(equals + 1).trim(), lineNumber);
  }
  return env;
}

type Mode = 'unquoted' | 'double' | 'single';

function readValue(raw: string, lineNumber: number): string {
  let value = '';
  // Length of `value` up to its last character that trimming must keep.
  let significant = 0;
  let mode: Mode = 'unquoted';
  for (let position = 0; position < raw.length; position++) {
    const character = raw[position]!;
    if (character < ' ') {
      throw new TemplateEnvError(lineNumber, `control character at column ${position + 1} of the value`);
    }
    if (mode === 'unquoted') {
      if (character === '#') return value.slice(0, significant);
      if (character === '"') mode = 'double';
      else if (character === "'") mode = 'single';
      else {
        value += character;
        if (character !== ' ' && character !== '\t') significant = value.length;
      }
    } else if (mode === 'single') {
      if (character === "'") mode = 'unquoted';
      else value += character;
      significant = value.length;
    } else {
      if (character === '"') {
        mode = 'unquoted';
      } else if (character === '\\') {
        position++;
        const escaped = DOUBLE_QUOTE_ESCAPES[raw[position] ?? ''];
        if (escaped === undefined) {
          throw new TemplateEnvError(
            lineNumber,
            `invalid escape sequence at column ${position} of the value`,
          );
        }
        value += escaped;
      } else {
        value += character;
      }
      significant = value.length;
    }
  }
  if (mode !== 'unquoted') {
    throw new TemplateEnvError(lineNumber, `unmatched ${mode === 'double' ? '"' : "'"} in the value`);
  }
  return value;
}

const DOUBLE_QUOTE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '"': '"',
  '\\': '\\',
};
