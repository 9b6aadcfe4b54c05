import type { Command } from 'commander';
import {
  type ParsedTemplate,
  parseTemplate,
  renderTemplate,
  TemplateRenderError,
  TemplateSyntaxError,
} from '../template/index.js';

/** The output flags of the commands that print API objects: `-json` and `-t`, as in Nomad. */
export interface OutputFlags {
  readonly json?: boolean;
  /** Go text/template source from `-t`. */
  readonly t?: string;
}

/** Name that template errors carry, so a message reads `template: -t:1:5: ...`. */
const TEMPLATE_NAME = '-t';

/**
 * Adds `-json` and `-t TEMPLATE`. `noun` names what is printed, as in `print the jobs as JSON`.
 * The template data is the same object that `-json` prints.
 */
export function withOutputFlags(command: Command, noun: string): Command {
  return command
    .option('--json', `print the ${noun} as JSON, as the HTTP API returns it`, false)
    .option(
      '-t <template>',
      `format the ${noun} with a Go text/template, applied to the JSON object (default: none)`,
    );
}

/** A requested output format, checked before any request is sent. */
export type OutputChoice =
  | { readonly kind: 'human' }
  | { readonly kind: 'json' }
  | { readonly kind: 'template'; readonly template: ParsedTemplate };

/**
 * Checks the output flags: `-json` and `-t` together are an error, and the template is parsed here
 * so that a syntax error stops the command before it calls the API. Throws an Error with one line.
 */
export function outputChoice(flags: OutputFlags): OutputChoice {
  if (flags.json === true && flags.t !== undefined) {
    throw new Error('-json and -t cannot be used together: choose one output format');
  }
  if (flags.t !== undefined) return { kind: 'template', template: parseCliTemplate(flags.t) };
  return { kind: flags.json === true ? 'json' : 'human' };
}

/** Parses a `-t` template. A syntax error becomes an Error whose message names the problem and its position. */
export function parseCliTemplate(source: string): ParsedTemplate {
  try {
    return parseTemplate(source, TEMPLATE_NAME);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) throw new Error(`invalid -t template: ${err.message}`);
    throw err;
  }
}

/**
 * Prints `value` in the chosen format: `human()` for tables, indented JSON, or the rendered
 * template. A newline follows the template output unless it already ends with one.
 */
export async function printOutput(choice: OutputChoice, value: unknown, human: () => string): Promise<void> {
  if (choice.kind === 'human') {
    process.stdout.write(human());
    return;
  }
  if (choice.kind === 'json') {
    process.stdout.write(`${JSON.stringify(value, null, 4)}\n`);
    return;
  }
  const text = await renderCliTemplate(choice.template, value);
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Renders a `-t` template over an API object. A failed render becomes an Error with one line. */
export async function renderCliTemplate(template: ParsedTemplate, value: unknown): Promise<string> {
  try {
    return await renderTemplate(template, value);
  } catch (err) {
    if (err instanceof TemplateRenderError) throw new Error(`cannot render the -t template: ${err.message}`);
    throw err;
  }
}
