/** Kinds of command failure, so that callers switch on a code instead of parsing messages. */
export type CommandErrorCode = 'MALFORMED' | 'UNKNOWN_TYPE' | 'UNKNOWN_VERSION' | 'INVALID_FIELD';

/**
 * A command that cannot be decoded or fails validation. `field` is the dotted path of the
 * offending value (`namespace.Name`), or `command` when the bytes are not a command at all.
 */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly code: CommandErrorCode;
  readonly field: string;
  readonly problem: string;

  constructor(code: CommandErrorCode, field: string, problem: string) {
    super(`invalid command: ${field} ${problem}`);
    this.code = code;
    this.field = field;
    this.problem = problem;
  }
}

/**
 * Snapshot data that `restore` rejects. `field` is the dotted path of the offending value
 * (`tables.namespaces.rows.3.Name`), or `snapshot` when the bytes do not decode.
 */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError';
  readonly field: string;
  readonly problem: string;

  constructor(field: string, problem: string) {
    super(`invalid state snapshot: ${field} ${problem}`);
    this.field = field;
    this.problem = problem;
  }
}

/** Builds the error for one invalid field, so that the same field readers serve commands and snapshots. */
export type FieldErrorFactory = (field: string, problem: string) => Error;

export const invalidCommandField: FieldErrorFactory = (field, problem) =>
  new CommandError('INVALID_FIELD', field, problem);

export const invalidSnapshotField: FieldErrorFactory = (field, problem) => new SnapshotError(field, problem);
