import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import type { Membership } from '../../raft/types.js';
import { MAX_TERM } from '../../raft/validate-message.js';
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
/** Bytes before the header: magic, format version, header length and header CRC-32. */
export const ARCHIVE_PREFIX_BYTES = ARCHIVE_MAGIC.length + 12;
const PREFIX_BYTES = ARCHIVE_PREFIX_BYTES;
/** Largest header accepted. A membership of thousands of removed ids still fits many times over. */
const MAX_HEADER_BYTES = 1024 * 1024;
/**
 * Highest term a header may carry. Recovery writes the header's term plus one, and the recovered
 * server's first election adds one more, and both must stay within the Raft maximum (2^52):
 * above it peers drop the server's messages and it never campaigns.
 */
export const MAX_ARCHIVE_TERM = MAX_TERM - 2;
/** Highest index a header may carry: recovery writes the index plus one, a safe integer. */
export const MAX_ARCHIVE_INDEX = Number.MAX_SAFE_INTEGER - 1;
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

/** The fixed prefix of an archive, decoded and checked. */
export interface ArchivePrefix {
  readonly formatVersion: number;
  readonly headerLength: number;
  /** CRC-32 that the header bytes must have. */
  readonly headerCrc: number;
}

/**
 * Checks an archive and returns its header and state. `source` names the file in errors.
 * Throws SnapshotArchiveError: NOT_A_SNAPSHOT, UNSUPPORTED_VERSION, TRUNCATED, CORRUPT (header
 * CRC or fields, or bytes after the state) or CHECKSUM_MISMATCH (state SHA-256). The state itself
 * is not decoded here: `decodeArchiveState` does that.
 */
export async function decodeSnapshotArchive(bytes: Uint8Array, source: string): Promise<SnapshotArchive> {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const prefix = decodeArchivePrefix(view.subarray(0, PREFIX_BYTES), view.length, source);
  const headerEnd = PREFIX_BYTES + prefix.headerLength;
  const header = decodeArchiveHeader(view.subarray(PREFIX_BYTES, headerEnd), prefix, source);
  checkStateSize(header, view.length - headerEnd, source);
  const state = view.subarray(headerEnd);
  checkStateSha256(header, await sha256Hex(state), source);
  return {
    formatVersion: prefix.formatVersion,
    header,
    state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength),
  };
}

/**
 * Checks the first `ARCHIVE_PREFIX_BYTES` of an archive of `fileSize` bytes (fewer when the file
 * is shorter): magic, format version and header length. A reader calls this before it reads the
 * rest, so that any other file is rejected after a few bytes. Throws NOT_A_SNAPSHOT,
 * UNSUPPORTED_VERSION, TRUNCATED or CORRUPT.
 */
export function decodeArchivePrefix(prefix: Buffer, fileSize: number, source: string): ArchivePrefix {
  checkMagic(prefix, source);
  if (prefix.length < PREFIX_BYTES) {
    throw truncated(
      source,
      `the file has ${prefix.length} bytes, fewer than the ${PREFIX_BYTES} of the fixed header`,
    );
  }

  const formatVersion = prefix.readUInt32BE(ARCHIVE_MAGIC.length);
  if (formatVersion !== ARCHIVE_FORMAT_VERSION) {
    throw new SnapshotArchiveError(
      'UNSUPPORTED_VERSION',
      source,
      `snapshot file ${source} has format version ${formatVersion}, but this Signet reads only version ${ARCHIVE_FORMAT_VERSION}; use the Signet release that wrote it`,
      { field: 'formatVersion' },
    );
  }

  const headerLength = prefix.readUInt32BE(ARCHIVE_MAGIC.length + 4);
  if (headerLength > MAX_HEADER_BYTES) {
    throw corrupt(
      source,
      'headerLength',
      `the header length ${headerLength} is above the limit of ${MAX_HEADER_BYTES} bytes`,
    );
  }
  const headerEnd = PREFIX_BYTES + headerLength;
  if (fileSize < headerEnd) {
    throw truncated(source, `the file has ${fileSize} bytes, but its header ends at byte ${headerEnd}`);
  }
  return { formatVersion, headerLength, headerCrc: prefix.readUInt32BE(ARCHIVE_MAGIC.length + 8) };
}

/** Checks the header bytes against the prefix's CRC-32 and parses them. Throws CORRUPT. */
export function decodeArchiveHeader(
  headerBytes: Buffer,
  prefix: ArchivePrefix,
  source: string,
): SnapshotArchiveHeader {
  if (crc32(headerBytes) !== prefix.headerCrc) {
    throw corrupt(source, 'header', 'the header fails its CRC-32: it changed after it was written');
  }
  return parseHeader(headerBytes, source);
}

/** Checks that `stored`, the bytes after the header, is the state size the header announces. */
export function checkStateSize(header: SnapshotArchiveHeader, stored: number, source: string): void {
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
}

/** Compares the state's SHA-256, in lowercase hex, with the header's. Throws CHECKSUM_MISMATCH. */
export function checkStateSha256(header: SnapshotArchiveHeader, actual: string, source: string): void {
  if (actual !== header.stateSha256) {
    throw new SnapshotArchiveError(
      'CHECKSUM_MISMATCH',
      source,
      `snapshot file ${source} is damaged: the state's SHA-256 is ${actual}, but the header records ${header.stateSha256}`,
      { field: 'stateSha256' },
    );
  }
}

function checkMagic(prefix: Buffer, source: string): void {
  const length = Math.min(prefix.length, ARCHIVE_MAGIC.length);
  if (!prefix.subarray(0, length).equals(ARCHIVE_MAGIC.subarray(0, length))) {
    throw new SnapshotArchiveError(
      'NOT_A_SNAPSHOT',
      source,
      `${source} is not a Signet snapshot file: it does not start with "signet-snapshot"; write one with signet operator snapshot save`,
      { field: 'magic' },
    );
  }
  // A file cut short inside the magic (an interrupted download, an empty file) is incomplete.
  if (length < ARCHIVE_MAGIC.length) throw truncated(source, `the file has only ${prefix.length} bytes`);
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
  const index = readCount(fields, 'index', 1, MAX_ARCHIVE_INDEX, source);
  const term = readCount(fields, 'term', 1, MAX_ARCHIVE_TERM, source);
  const stateSize = readCount(fields, 'stateSize', 0, Number.MAX_SAFE_INTEGER, source);
  const membership = readMembership(fields.membership, source);
  const createdAt = readText(fields, 'createdAt', source);
  const signetVersion = readText(fields, 'signetVersion', source);
  const stateSha256 = readText(fields, 'stateSha256', source);
  if (!/^[0-9a-f]{64}$/.test(stateSha256)) {
    throw corrupt(source, 'stateSha256', 'stateSha256 is not 64 lowercase hex digits');
  }
  return { index, term, membership, createdAt, signetVersion, stateSize, stateSha256 };
}

function readCount(
  fields: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  source: string,
): number {
  const value = fields[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw corrupt(
      source,
      name,
      `${name} must be an integer of at least ${min}, got ${JSON.stringify(value)}`,
    );
  }
  if (value > max) throw corrupt(source, name, `${name} ${value} is above the maximum of ${max}`);
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
