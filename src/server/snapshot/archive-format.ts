import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { Membership } from '../../raft/types.js';
import { SnapshotArchiveError } from './archive-error.js';

/**
 * Layout of a snapshot archive, the file that `GET /v1/operator/snapshot` returns and
 * `operator snapshot save` writes:
 *
 * | bytes  | content                                                            |
 * | ------ | ------------------------------------------------------------------ |
 * | 0–15   | magic: the ASCII text `signet-snapshot` and a newline              |
 * | 16–19  | format version, uint32 big-endian (1)                              |
 * | 20–23  | header length N, uint32 big-endian                                 |
 * | 24–27  | CRC-32 of the header bytes, uint32 big-endian                      |
 * | 28–    | header: N bytes of UTF-8 JSON (`SnapshotArchiveHeader`)            |
 * | then   | state: `stateSize` bytes, exactly as the state machine wrote them  |
 *
 * The header is JSON so that `head -c 4096 FILE` shows a file's contents without Signet. The
 * format version sits before the header, so a later version may change the header's encoding.
 */
export const ARCHIVE_MAGIC = Buffer.from('signet-snapshot\n', 'ascii');
export const ARCHIVE_FORMAT_VERSION = 1;
const PREFIX_BYTES = ARCHIVE_MAGIC.length + 12;
/** Largest header accepted. A membership of thousands of removed ids still fits many times over. */
const MAX_HEADER_BYTES = 1024 * 1024;
/** Bytes hashed between two yields to the event loop (about 2 ms of SHA-256 on a slow core). */
const HASH_CHUNK_BYTES = 1024 * 1024;

/** Metadata that an archive records beside the state. */
export interface SnapshotArchiveHeader {
  /** Raft index of the last entry applied to the state. */
  readonly index: number;
  /**
   * Raft term of the server when it wrote the archive, at least the term of the entry at `index`.
   * The source cluster may have moved to higher terms since, so a restore's term can repeat one of
   * them.
   */
  readonly term: number;
  /** Raft membership in force at `index` on the server that wrote the archive. */
  readonly membership: Membership;
  /** When the archive was written, RFC 3339 in UTC. */
  readonly createdAt: string;
  /** Signet version of the server that wrote it. */
  readonly signetVersion: string;
  readonly stateSize: number;
  /** SHA-256 of the state bytes, in lowercase hex. */
  readonly stateSha256: string;
}

export interface SnapshotArchive {
  readonly formatVersion: number;
  readonly header: SnapshotArchiveHeader;
  /** The state machine's snapshot bytes (a view into the archive). */
  readonly state: Uint8Array;
}

/** The fields of a header that the writer chooses; size and checksum are computed from `state`. */
export type ArchiveSource = Omit<SnapshotArchiveHeader, 'stateSize' | 'stateSha256'>;

/** Builds an archive around `state` in one buffer. Hashing yields to the event loop every 1 MiB. */
export async function encodeSnapshotArchive(source: ArchiveSource, state: Uint8Array): Promise<Buffer> {
  return Buffer.concat(await encodeSnapshotArchiveChunks(source, state));
}

/**
 * Builds an archive around `state` as three chunks to write in order: the fixed prefix, the
 * header and `state` itself, which is not copied. Hashing yields to the event loop every 1 MiB.
 */
export async function encodeSnapshotArchiveChunks(
  source: ArchiveSource,
  state: Uint8Array,
): Promise<[prefix: Buffer, header: Buffer, state: Uint8Array]> {
  const header: SnapshotArchiveHeader = {
    index: source.index,
    term: source.term,
    membership: {
      voters: [...source.membership.voters],
      learners: [...source.membership.learners],
      removed: [...source.membership.removed],
    },
    createdAt: source.createdAt,
    signetVersion: source.signetVersion,
    stateSize: state.byteLength,
    stateSha256: await sha256Hex(state),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  ARCHIVE_MAGIC.copy(prefix, 0);
  prefix.writeUInt32BE(ARCHIVE_FORMAT_VERSION, ARCHIVE_MAGIC.length);
  prefix.writeUInt32BE(headerBytes.length, ARCHIVE_MAGIC.length + 4);
  prefix.writeUInt32BE(crc32(headerBytes), ARCHIVE_MAGIC.length + 8);
  return [prefix, headerBytes, state];
}

/**
 * Checks an archive and returns its header and state. `source` names the file in errors.
 * Throws SnapshotArchiveError: NOT_A_SNAPSHOT, UNSUPPORTED_VERSION, TRUNCATED, CORRUPT (header
 * CRC or fields, or bytes after the state) or CHECKSUM_MISMATCH (state SHA-256). The state itself
 * is not decoded here: `decodeArchiveState` does that.
 */
export async function decodeSnapshotArchive(bytes: Uint8Array, source: string): Promise<SnapshotArchive> {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkMagic(view, source);
  if (view.length < PREFIX_BYTES) {
    throw truncated(
      source,
      `the file has ${view.length} bytes, fewer than the ${PREFIX_BYTES} of the fixed header`,
    );
  }

  const formatVersion = view.readUInt32BE(ARCHIVE_MAGIC.length);
  if (formatVersion !== ARCHIVE_FORMAT_VERSION) {
    throw new SnapshotArchiveError(
      'UNSUPPORTED_VERSION',
      source,
      `snapshot file ${source} has format version ${formatVersion}, but this Signet reads only version ${ARCHIVE_FORMAT_VERSION}; use the Signet release that wrote it`,
      { field: 'formatVersion' },
    );
  }

  const headerLength = view.readUInt32BE(ARCHIVE_MAGIC.length + 4);
  if (headerLength > MAX_HEADER_BYTES) {
    throw corrupt(
      source,
      'headerLength',
      `the header length ${headerLength} is above the limit of ${MAX_HEADER_BYTES} bytes`,
    );
  }
  const headerEnd = PREFIX_BYTES + headerLength;
  if (view.length < headerEnd) {
    throw truncated(source, `the file has ${view.length} bytes, but its header ends at byte ${headerEnd}`);
  }
  const headerBytes = view.subarray(PREFIX_BYTES, headerEnd);
  if (crc32(headerBytes) !== view.readUInt32BE(ARCHIVE_MAGIC.length + 8)) {
    throw corrupt(source, 'header', 'the header fails its CRC-32: it changed after it was written');
  }
  const header = parseHeader(headerBytes, source);

  const stored = view.length - headerEnd;
  if (stored < header.stateSize) {
    throw truncated(source, `the state has ${stored} of its ${header.stateSize} bytes`);
  }
  if (stored > header.stateSize) {
    throw corrupt(
      source,
      'stateSize',
      `${stored - header.stateSize} bytes follow the ${header.stateSize} bytes of state that the header announces`,
    );
  }
  const state = view.subarray(headerEnd);
  const actual = await sha256Hex(state);
  if (actual !== header.stateSha256) {
    throw new SnapshotArchiveError(
      'CHECKSUM_MISMATCH',
      source,
      `snapshot file ${source} is damaged: the state's SHA-256 is ${actual}, but the header records ${header.stateSha256}`,
      { field: 'stateSha256' },
    );
  }
  return { formatVersion, header, state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength) };
}

function checkMagic(view: Buffer, source: string): void {
  const length = Math.min(view.length, ARCHIVE_MAGIC.length);
  if (!view.subarray(0, length).equals(ARCHIVE_MAGIC.subarray(0, length))) {
    throw new SnapshotArchiveError(
      'NOT_A_SNAPSHOT',
      source,
      `${source} is not a Signet snapshot file: it does not start with "signet-snapshot"; write one with signet operator snapshot save`,
      { field: 'magic' },
    );
  }
  // A file cut short inside the magic (an interrupted download, an empty file) is incomplete.
  if (length < ARCHIVE_MAGIC.length) throw truncated(source, `the file has only ${view.length} bytes`);
}

function parseHeader(bytes: Buffer, source: string): SnapshotArchiveHeader {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw corrupt(source, 'header', 'the header is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt(source, 'header', 'the header is not a JSON object');
  }
  const fields = value as Record<string, unknown>;
  const index = readCount(fields, 'index', 1, source);
  const term = readCount(fields, 'term', 1, source);
  const stateSize = readCount(fields, 'stateSize', 0, source);
  const membership = readMembership(fields.membership, source);
  const createdAt = readText(fields, 'createdAt', source);
  const signetVersion = readText(fields, 'signetVersion', source);
  const stateSha256 = readText(fields, 'stateSha256', source);
  if (!/^[0-9a-f]{64}$/.test(stateSha256)) {
    throw corrupt(source, 'stateSha256', 'stateSha256 is not 64 lowercase hex digits');
  }
  return { index, term, membership, createdAt, signetVersion, stateSize, stateSha256 };
}

function readCount(fields: Record<string, unknown>, name: string, min: number, source: string): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw corrupt(
      source,
      name,
      `${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function readText(fields: Record<string, unknown>, name: string, source: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw corrupt(source, name, `${name} must be a string`);
  return value;
}

function readMembership(value: unknown, source: string): Membership {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt(source, 'membership', 'membership must be an object of voters, learners and removed');
  }
  const fields = value as Record<string, unknown>;
  const list = (name: string): number[] => {
    const ids = fields[name];
    if (!Array.isArray(ids) || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
      throw corrupt(source, `membership.${name}`, `membership.${name} must be a list of server ids`);
    }
    return ids as number[];
  };
  return { voters: list('voters'), learners: list('learners'), removed: list('removed') };
}

function truncated(source: string, reason: string): SnapshotArchiveError {
  return new SnapshotArchiveError(
    'TRUNCATED',
    source,
    `snapshot file ${source} is incomplete: ${reason}; save the snapshot again`,
  );
}

function corrupt(source: string, field: string, reason: string): SnapshotArchiveError {
  return new SnapshotArchiveError('CORRUPT', source, `snapshot file ${source} is damaged: ${reason}`, {
    field,
  });
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  for (let offset = 0; offset < bytes.byteLength; offset += HASH_CHUNK_BYTES) {
    if (offset > 0) await yieldToEventLoop();
    hash.update(bytes.subarray(offset, offset + HASH_CHUNK_BYTES));
  }
  return hash.digest('hex');
}
