export type SnapshotArchiveErrorCode =
  /** The file does not start with the snapshot archive's magic bytes. */
  | 'NOT_A_SNAPSHOT'
  /** The archive's format version is not one this build reads. */
  | 'UNSUPPORTED_VERSION'
  /** The archive ends before the length its header promises. */
  | 'TRUNCATED'
  /** The header fails its CRC-32 or its checks, or the state does not decode. */
  | 'CORRUPT'
  /** The state's SHA-256 differs from the one in the header. */
  | 'CHECKSUM_MISMATCH'
  /** The file cannot be read or written (missing, unreadable, disk full). */
  | 'IO';

/** A snapshot archive that cannot be read or written. `source` names the file or the request. */
export class SnapshotArchiveError extends Error {
  override readonly name = 'SnapshotArchiveError';
  readonly code: SnapshotArchiveErrorCode;
  readonly source: string;
  /** Header field or state path at fault, when one is. */
  readonly field: string | null;

  constructor(
    code: SnapshotArchiveErrorCode,
    source: string,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.source = source;
    this.field = options.field ?? null;
  }
}
