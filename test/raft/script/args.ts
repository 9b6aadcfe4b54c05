import type { NodeId } from '../../../src/raft/types.js';
import { ScriptError } from './server.js';

/**
 * The arguments of one script command: positional words and `key=value` options. Every option
 * must be read by the command, so a misspelt option is an error instead of being ignored.
 */
export class Args {
  readonly command: string;
  readonly positional: string[] = [];
  readonly #named = new Map<string, string>();
  readonly #read = new Set<string>();

  constructor(line: string) {
    const [command, ...words] = line.split(/\s+/);
    this.command = command ?? '';
    for (const word of words) {
      const equals = word.indexOf('=');
      if (equals > 0 && /^[a-z][a-z-]*$/.test(word.slice(0, equals))) {
        this.#named.set(word.slice(0, equals), word.slice(equals + 1));
      } else {
        this.positional.push(word);
      }
    }
  }

  /** Positional argument `k` as a node id. */
  node(k: number): NodeId {
    return parseId(this.word(k), `argument ${k + 1} of ${this.command}`);
  }

  word(k: number): string {
    const word = this.positional[k];
    if (word === undefined) throw new ScriptError(`${this.command}: missing argument ${k + 1}`);
    return word;
  }

  int(k: number): number {
    return parseInteger(this.word(k), `argument ${k + 1} of ${this.command}`);
  }

  /** Reads the positional arguments from index `from` on as node ids. */
  nodes(from = 0): NodeId[] {
    return this.positional.slice(from).map((word) => parseId(word, `node list of ${this.command}`));
  }

  has(name: string): boolean {
    return this.#named.has(name);
  }

  option(name: string): string | undefined {
    this.#read.add(name);
    return this.#named.get(name);
  }

  intOption(name: string): number | undefined {
    const value = this.option(name);
    return value === undefined ? undefined : parseInteger(value, `option ${name}`);
  }

  boolOption(name: string): boolean | undefined {
    const value = this.option(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') {
      throw new ScriptError(`option ${name}=${value}: expected true or false`);
    }
    return value === 'true';
  }

  /** Splits a comma-separated option such as `drop=2,3`. */
  listOption(name: string): string[] {
    const value = this.option(name);
    return value === undefined || value === '' ? [] : value.split(',');
  }

  nodeListOption(name: string): NodeId[] {
    return this.listOption(name).map((word) => parseId(word, `option ${name}`));
  }

  /** Fails on options that the command did not read. */
  done(): void {
    const unknown = [...this.#named.keys()].filter((name) => !this.#read.has(name));
    if (unknown.length > 0) throw new ScriptError(`${this.command}: unknown option ${unknown.join(', ')}`);
  }
}

export function parseInteger(word: string, subject: string): number {
  if (!/^-?\d+$/.test(word)) throw new ScriptError(`${subject}: expected an integer, got '${word}'`);
  return Number(word);
}

export function parseId(word: string, subject: string): NodeId {
  const id = parseInteger(word, subject);
  if (id <= 0) throw new ScriptError(`${subject}: node ids are positive, got ${id}`);
  return id;
}
