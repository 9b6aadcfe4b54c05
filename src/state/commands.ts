import { ACL_READERS, type AclCommand } from './acl-commands.js';
import { type CommandReader, versions } from './command-reader.js';
import { CommandError, invalidCommandField } from './errors.js';
import { describeValue, isPlainObject, readFields, readInteger, readString } from './fields.js';
import { statePackr } from './msgpack.js';
import { NAMESPACE_NAME_PATTERN, type NamespaceInput, readNamespaceInput } from './namespaces.js';
import { ROOT_KEY_READERS, type RootKeyCommand } from './root-key-commands.js';
import { MAX_SERVER_ID, readServerRecord, type ServerRecord } from './servers.js';
import { VARIABLE_READERS, type VariableCommand } from './var-apply.js';
import { WORKLOAD_READERS, type WorkloadCommand } from './workload-commands.js';

/**
 * A change to the replicated state, as stored in a Raft log entry. `type` selects the payload and
 * `v` its version.
 */
export type Command =
  | { type: 'namespace-upsert'; v: 1; namespace: NamespaceInput }
  | { type: 'namespace-delete'; v: 1; name: string }
  | { type: 'server-upsert'; v: 1; server: ServerRecord }
  | { type: 'server-delete'; v: 1; id: number }
  | WorkloadCommand
  | RootKeyCommand
  | AclCommand
  | VariableCommand;

export type CommandType = Command['type'];

const fail = invalidCommandField;

// Readers by type, then by version. Log entries and snapshots are kept across upgrades, so a
// reader is never removed and never changed to accept something else. To change a payload, add
// version 2 beside version 1: a new Command variant with `v: 2` and a reader for it. The v1 reader
// then either stays as it is, and apply handles both versions, or converts its payload to the v2
// shape. Until every server runs code that reads v2, leaders must keep proposing v1, because a
// server that cannot read an entry reports it as undecodable and its state falls behind the others.
const READERS: ReadonlyMap<string, ReadonlyMap<number, CommandReader<Command>>> = new Map<
  string,
  ReadonlyMap<number, CommandReader<Command>>
>([
  [
    'namespace-upsert',
    versions([
      1,
      ['namespace'],
      (f) => ({
        type: 'namespace-upsert',
        v: 1,
        namespace: readNamespaceInput(f.namespace, 'namespace', fail),
      }),
    ]),
  ],
  [
    'namespace-delete',
    versions([
      1,
      ['name'],
      (f) => ({
        type: 'namespace-delete',
        v: 1,
        name: readString(f.name, 'name', fail, { pattern: NAMESPACE_NAME_PATTERN }),
      }),
    ]),
  ],
  [
    'server-upsert',
    versions([
      1,
      ['server'],
      (f) => ({ type: 'server-upsert', v: 1, server: readServerRecord(f.server, 'server', fail) }),
    ]),
  ],
  [
    'server-delete',
    versions([
      1,
      ['id'],
      (f) => ({ type: 'server-delete', v: 1, id: readInteger(f.id, 'id', fail, 1, MAX_SERVER_ID) }),
    ]),
  ],
  ...WORKLOAD_READERS,
  ...ROOT_KEY_READERS,
  ...ACL_READERS,
  ...VARIABLE_READERS,
]);

/**
 * Checks a command built from API input and returns a fresh copy with only the known fields.
 * Throws CommandError naming the first invalid field. `decodeCommand` runs the same checks.
 */
export function validateCommand(value: unknown): Command {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw new CommandError('MALFORMED', 'command', `must be a map, got ${describeValue(value)}`);
  }
  const record = value as Record<string, unknown>;

  const type = Object.hasOwn(record, 'type') ? record.type : undefined;
  if (typeof type !== 'string') {
    throw new CommandError('INVALID_FIELD', 'type', `must be a string, got ${describeValue(type)}`);
  }
  const versions = READERS.get(type);
  if (versions === undefined) {
    throw new CommandError(
      'UNKNOWN_TYPE',
      'type',
      `${describeValue(type)} is not a known command type (known: ${[...READERS.keys()].join(', ')})`,
    );
  }

  const version = Object.hasOwn(record, 'v') ? record.v : undefined;
  const reader = typeof version === 'number' ? versions.get(version) : undefined;
  if (reader === undefined) {
    throw new CommandError(
      'UNKNOWN_VERSION',
      'v',
      `${describeValue(version)} is not a known version of ${type} (known: ${[...versions.keys()].join(', ')})`,
    );
  }

  return reader.read(readFields(value, '', ['type', 'v', ...reader.fields], fail));
}

/** Encodes a command for the Raft log, after the checks of `validateCommand` (throws CommandError). */
export function encodeCommand(command: Command): Uint8Array {
  return statePackr.pack(validateCommand(command));
}

/** Decodes a Raft log entry. Throws CommandError, and nothing else, for any bytes. */
export function decodeCommand(bytes: Uint8Array): Command {
  let value: unknown;
  try {
    value = statePackr.unpack(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CommandError('MALFORMED', 'command', `is not valid MessagePack: ${reason}`);
  }
  return validateCommand(value);
}
