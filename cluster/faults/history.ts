import { readFile, rename, writeFile } from 'node:fs/promises';

/**
 * A history of variable operations, as the fault suite records them and the linearizability
 * checker reads them. Times are nanoseconds on one monotonic clock, counted from the start of the
 * recording so that they stay safe integers.
 *
 * An operation ends in one of three outcomes:
 * - `ok`: the server replied, and `output` is what it replied;
 * - `fail`: the operation is known not to have taken effect (for example the connection was
 *   refused, or the server rejected the request before proposing it), and it has no output;
 * - `unknown`: the client gave up waiting (a timeout, a reset connection). The operation may or
 *   may not have taken effect, at any instant after its call, so its return time is +infinity
 *   (`null` in JSON) and it has no output.
 *
 * A check-and-set that lost its race (HTTP 409) is an `ok` operation with `succeeded: false`,
 * because the server did evaluate it.
 */
export type Outcome = 'ok' | 'fail' | 'unknown';

export const HISTORY_FORMAT = 'signet-variable-history';
export const HISTORY_VERSION = 1;

interface OperationFields {
  /** Unique within the history, so that a violation report names operations by id. */
  readonly id: number;
  /** The client that issued the operation. One process issues one operation at a time. */
  readonly process: number;
  /** The variable, as `namespace/path` or any other string that names one variable. */
  readonly key: string;
  readonly callNs: number;
  /** Infinity when the outcome is `unknown`. */
  readonly returnNs: number;
}

/** An unconditional write (`PUT /v1/var/:path`). `index` is the ModifyIndex of the reply. */
export interface PutOperation extends OperationFields {
  readonly kind: 'put';
  readonly input: { readonly value: string };
  readonly outcome: Outcome;
  readonly output: { readonly index: number } | null;
}

/** A read. `value` and `index` are null when the variable was not found (HTTP 404). */
export interface GetOperation extends OperationFields {
  readonly kind: 'get';
  readonly input: null;
  readonly outcome: Outcome;
  readonly output: { readonly value: string | null; readonly index: number | null } | null;
}

/**
 * A write with `?cas=casIndex`: 0 means "only if the variable does not exist", N "only if its
 * ModifyIndex is N". `index` is the new ModifyIndex when the write succeeded, else null.
 */
export interface CasOperation extends OperationFields {
  readonly kind: 'cas';
  readonly input: { readonly value: string; readonly casIndex: number };
  readonly outcome: Outcome;
  readonly output: { readonly succeeded: boolean; readonly index: number | null } | null;
}

/**
 * A delete, with `?cas=casIndex` when `casIndex` is not null. A delete without a check-and-set
 * always succeeds, also when the variable does not exist.
 */
export interface DeleteOperation extends OperationFields {
  readonly kind: 'delete';
  readonly input: { readonly casIndex: number | null };
  readonly outcome: Outcome;
  readonly output: { readonly succeeded: boolean } | null;
}

export type VariableOperation = PutOperation | GetOperation | CasOperation | DeleteOperation;
export type OperationKind = VariableOperation['kind'];

export interface History {
  readonly operations: readonly VariableOperation[];
}

/** A history that does not follow the format, with the JSON path of the first invalid field. */
export class HistoryFormatError extends Error {
  readonly code = 'HISTORY_INVALID';
  readonly field: string;

  constructor(field: string, problem: string) {
    super(`invalid history: ${field} ${problem}`);
    this.name = 'HistoryFormatError';
    this.field = field;
  }
}

/**
 * Checks the rules that the format itself imposes: unique ids, `callNs <= returnNs`, an output
 * exactly when the outcome is `ok`, and no rejected delete without a check-and-set. A process has
 * one operation at a time, so it issues nothing after an `unknown` operation. Throws
 * HistoryFormatError at the first broken rule.
 */
export function validateHistory(history: History): void {
  const ids = new Set<number>();
  const lastReturnByProcess = new Map<number, { readonly id: number; readonly returnNs: number }>();
  const byCall = [...history.operations].sort((a, b) => a.callNs - b.callNs || a.id - b.id);

  history.operations.forEach((operation, position) => {
    const field = `operations[${position}]`;
    if (ids.has(operation.id)) throw new HistoryFormatError(`${field}.id`, `repeats id ${operation.id}`);
    ids.add(operation.id);
    if (operation.outcome === 'unknown' && operation.returnNs !== Number.POSITIVE_INFINITY) {
      throw new HistoryFormatError(
        `${field}.returnNs`,
        'must be infinite (null in JSON) when the outcome is unknown',
      );
    }
    if (operation.outcome !== 'unknown' && !(operation.returnNs >= operation.callNs)) {
      throw new HistoryFormatError(
        `${field}.returnNs`,
        `is ${operation.returnNs}, before callNs ${operation.callNs}`,
      );
    }
    if ((operation.output === null) !== (operation.outcome !== 'ok')) {
      throw new HistoryFormatError(`${field}.output`, 'must be present exactly when the outcome is ok');
    }
    if (
      operation.kind === 'delete' &&
      operation.input.casIndex === null &&
      operation.output?.succeeded === false
    ) {
      throw new HistoryFormatError(
        `${field}.output.succeeded`,
        'must be true: a delete without casIndex always succeeds',
      );
    }
  });

  for (const operation of byCall) {
    const previous = lastReturnByProcess.get(operation.process);
    if (previous !== undefined && previous.returnNs > operation.callNs) {
      throw new HistoryFormatError(
        `operation ${operation.id}`,
        `is called by process ${operation.process} before its operation ${previous.id} returned`,
      );
    }
    lastReturnByProcess.set(operation.process, { id: operation.id, returnNs: operation.returnNs });
  }
}

/** Encodes a history as the JSON document of the format, with `returnNs: null` for +infinity. */
export function historyToJson(history: History): string {
  const operations = history.operations.map((operation) => ({
    ...operation,
    returnNs: Number.isFinite(operation.returnNs) ? operation.returnNs : null,
  }));
  return `${JSON.stringify({ format: HISTORY_FORMAT, version: HISTORY_VERSION, operations }, null, 1)}\n`;
}

/** Decodes and validates a history document. Throws HistoryFormatError naming the first invalid field. */
export function historyFromJson(text: string): History {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new HistoryFormatError('document', `is not JSON: ${(err as Error).message}`);
  }
  const root = readObject(document, 'document');
  if (root.format !== HISTORY_FORMAT) {
    throw new HistoryFormatError('format', `is ${JSON.stringify(root.format)}, expected "${HISTORY_FORMAT}"`);
  }
  if (root.version !== HISTORY_VERSION) {
    throw new HistoryFormatError(
      'version',
      `is ${JSON.stringify(root.version)}, expected ${HISTORY_VERSION}`,
    );
  }
  if (!Array.isArray(root.operations)) throw new HistoryFormatError('operations', 'must be an array');
  const operations = root.operations.map((value: unknown, position: number) =>
    readOperation(value, `operations[${position}]`),
  );
  const history = { operations };
  validateHistory(history);
  return history;
}

/** Writes a history file through a temporary name, so that a reader never sees half a file. */
export async function writeHistoryFile(file: string, history: History): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, historyToJson(history), { mode: 0o644 });
  await rename(temporary, file);
}

export async function readHistoryFile(file: string): Promise<History> {
  return historyFromJson(await readFile(file, 'utf8'));
}

function readOperation(value: unknown, field: string): VariableOperation {
  const fields = readObject(value, field);
  const outcome = readEnum(fields.outcome, `${field}.outcome`, ['ok', 'fail', 'unknown'] as const);
  const common = {
    id: readCount(fields.id, `${field}.id`),
    process: readCount(fields.process, `${field}.process`),
    key: readString(fields.key, `${field}.key`),
    callNs: readCount(fields.callNs, `${field}.callNs`),
    returnNs:
      fields.returnNs === null && outcome === 'unknown'
        ? Number.POSITIVE_INFINITY
        : readCount(fields.returnNs, `${field}.returnNs`),
  };
  const kind = readEnum(fields.kind, `${field}.kind`, ['put', 'get', 'cas', 'delete'] as const);
  const hasOutput = fields.output !== null && fields.output !== undefined;
  const output = hasOutput ? readObject(fields.output, `${field}.output`) : null;
  const input = kind === 'get' ? null : readObject(fields.input, `${field}.input`);

  switch (kind) {
    case 'put':
      return {
        ...common,
        kind,
        outcome,
        input: { value: readString(input?.value, `${field}.input.value`) },
        output: output === null ? null : { index: readCount(output.index, `${field}.output.index`) },
      };
    case 'get':
      return {
        ...common,
        kind,
        outcome,
        input: null,
        output:
          output === null
            ? null
            : output.value === null
              ? { value: null, index: null }
              : {
                  value: readString(output.value, `${field}.output.value`),
                  index: readCount(output.index, `${field}.output.index`),
                },
      };
    case 'cas': {
      const succeeded = output === null ? false : readBoolean(output.succeeded, `${field}.output.succeeded`);
      return {
        ...common,
        kind,
        outcome,
        input: {
          value: readString(input?.value, `${field}.input.value`),
          casIndex: readCount(input?.casIndex, `${field}.input.casIndex`),
        },
        output:
          output === null
            ? null
            : { succeeded, index: succeeded ? readCount(output.index, `${field}.output.index`) : null },
      };
    }
    case 'delete':
      return {
        ...common,
        kind,
        outcome,
        input: {
          casIndex: input?.casIndex === null ? null : readCount(input?.casIndex, `${field}.input.casIndex`),
        },
        output:
          output === null ? null : { succeeded: readBoolean(output.succeeded, `${field}.output.succeeded`) },
      };
  }
}

function readObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HistoryFormatError(field, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function readString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new HistoryFormatError(field, 'must be a string');
  return value;
}

function readBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new HistoryFormatError(field, 'must be true or false');
  return value;
}

/** Reads a non-negative safe integer: an id, a time in nanoseconds or a Raft index. */
function readCount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new HistoryFormatError(field, `is ${JSON.stringify(value)}, expected a non-negative safe integer`);
  }
  return value;
}

function readEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new HistoryFormatError(field, `is ${JSON.stringify(value)}, expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}
