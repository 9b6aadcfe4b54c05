import type { DurableState, PersistBatch } from '../types.js';

/**
 * Durable home of the Raft log, the hard state and the latest snapshot.
 *
 * An invalid PersistBatch (see `planBatch`) is a bug in the caller: `save` rejects it with a plain
 * Error and writes nothing. Failures of the storage itself are `StorageError`s.
 */
export interface RaftStorage {
  /** Reads what is durable (used once at start). */
  load(): Promise<DurableState>;
  /** Makes the batch durable; resolves only after it is synced to disk. Calls are serialised. */
  save(batch: PersistBatch): Promise<void>;
  close(): Promise<void>;
}

export type StorageErrorCode =
  /** Stored data fails a check: undecodable value, checksum mismatch, missing file, gap in the log. */
  | 'STORAGE_CORRUPT'
  /** Another process, or another LevelStorage in this one, has the data folder open. */
  | 'STORAGE_LOCKED'
  /** The storage was closed before the call. */
  | 'STORAGE_CLOSED'
  /** A read, write or sync failed. After a failed write, the storage accepts no more writes. */
  | 'STORAGE_IO';

/** Structured fields of a `StorageError`, for callers and tests that must not parse messages. */
export interface StorageErrorFields {
  /** File or folder involved. */
  readonly path: string;
  /** LevelDB key involved, in hex. */
  readonly key?: string;
  /** Log index that the check expected. */
  readonly expectedIndex?: number;
  /** Log index that the check found instead. */
  readonly foundIndex?: number;
  readonly cause?: unknown;
}

/** Advice to the operator, appended to STORAGE_CORRUPT messages. */
export const CORRUPT_ADVICE =
  'Restore the data folder from a backup, or remove this server from the cluster and add a ' +
  'replacement server with an empty data folder.';

/** Failure of the storage itself, as opposed to an invalid batch from the caller. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  readonly path: string;
  readonly key: string | null;
  readonly expectedIndex: number | null;
  readonly foundIndex: number | null;

  constructor(code: StorageErrorCode, message: string, fields: StorageErrorFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.code = code;
    this.path = fields.path;
    this.key = fields.key ?? null;
    this.expectedIndex = fields.expectedIndex ?? null;
    this.foundIndex = fields.foundIndex ?? null;
  }
}
