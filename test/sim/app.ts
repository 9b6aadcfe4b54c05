import type { Entry } from '../../src/raft/types.js';
import { commandText, entryKey } from './entry-key.js';
import { hash53 } from './hash.js';

/** Commands kept verbatim in the state. Older ones survive only in the hash chain. */
const RECENT_COMMANDS = 8;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The serialised form of `AppState`, used as snapshot data. */
interface AppStateJson {
  readonly index: number;
  readonly term: number;
  readonly chain: number;
  readonly commands: number;
  readonly recent: readonly string[];
}

/**
 * The replicated application of the simulation: a hash chain over every applied entry (noops and
 * configs included), the number of commands and the last few command payloads. Two servers that
 * applied the same entries in the same order hold equal states, and a snapshot restores all of it.
 */
export class AppState {
  index = 0;
  term = 0;
  chain = 0;
  commands = 0;
  recent: string[] = [];

  /** Applies `entry`. The caller checks that it is the next index. */
  apply(entry: Entry): void {
    this.index = entry.index;
    this.term = entry.term;
    this.chain = chainHash(this.chain, entry);
    if (entry.kind === 'command') {
      this.commands++;
      this.recent.push(commandText(entry.data));
      if (this.recent.length > RECENT_COMMANDS) this.recent.shift();
    }
  }

  encode(): Uint8Array {
    const json: AppStateJson = {
      index: this.index,
      term: this.term,
      chain: this.chain,
      commands: this.commands,
      recent: this.recent,
    };
    return encoder.encode(JSON.stringify(json));
  }

  /** Rebuilds a state from `encode()` output. Throws TypeError when the data is not such output. */
  static decode(data: Uint8Array): AppState {
    const json: unknown = JSON.parse(decoder.decode(data));
    if (!isAppStateJson(json)) throw new TypeError('invalid snapshot data: not an encoded application state');
    const state = new AppState();
    state.index = json.index;
    state.term = json.term;
    state.chain = json.chain;
    state.commands = json.commands;
    state.recent = [...json.recent];
    return state;
  }
}

/** Returns the chain value after `entry`, given the chain value before it. */
export function chainHash(previous: number, entry: Entry): number {
  return hash53(`${previous}|${entry.index}|${entryKey(entry)}`);
}

function isAppStateJson(value: unknown): value is AppStateJson {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    Number.isSafeInteger(record.index) &&
    Number.isSafeInteger(record.term) &&
    Number.isSafeInteger(record.chain) &&
    Number.isSafeInteger(record.commands) &&
    Array.isArray(record.recent) &&
    record.recent.every((item) => typeof item === 'string')
  );
}
