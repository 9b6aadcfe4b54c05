export type RecoverErrorCode =
  /** The data folder does not exist. */
  | 'DATA_DIR_MISSING'
  /** The data folder path names something other than a folder. */
  | 'DATA_DIR_INVALID'
  /** The path is the `server/` folder inside a data_dir (it contains `raft/` or `node-id`). */
  | 'DATA_DIR_IS_SERVER_FOLDER'
  /** The folder is neither empty nor a server's data_dir (it has no `server/`). */
  | 'DATA_DIR_NOT_SERVER'
  /** The server was not a voter of its stored configuration, and `force` was not given. */
  | 'NOT_A_VOTER'
  /** The data folder contains no Raft state and no snapshot file was given. */
  | 'NO_RAFT_STATE'
  /** A running server holds the data folder's LevelDB lock. */
  | 'SERVER_RUNNING'
  /** The stored snapshot or a log entry does not decode with this Signet. */
  | 'UNREADABLE_STATE';

/** A recovery that was refused before it wrote anything. `path` names the folder or file at fault. */
export class RecoverError extends Error {
  override readonly name = 'RecoverError';
  readonly code: RecoverErrorCode;
  readonly path: string;
  /** Log index of the entry at fault, for UNREADABLE_STATE. */
  readonly index: number | null;

  constructor(
    code: RecoverErrorCode,
    path: string,
    message: string,
    options: { index?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = path;
    this.index = options.index ?? null;
  }
}
