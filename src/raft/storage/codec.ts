import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import type { Entry, HardState, SnapshotMeta } from '../types.js';
import { isMembership } from './batch-plan.js';
import { snapshotFileName } from './snapshot-file.js';
import { CORRUPT_ADVICE, StorageError } from './storage.js';

/**
 * LevelDB layout of LevelStorage. Keys are raw bytes:
 * - `e` + 8-byte big-endian index: one log entry, so that byte order is index order;
 * - `h`: the hard state;
 * - `s`: the record of the current snapshot file.
 * Every value is one format-version byte, the CRC-32 of the rest (4 bytes, big-endian), then a
 * MessagePack map. classic-level 3.0.0 does not turn on LevelDB's read checksums, so the CRC is
 * what detects a value changed on disk.
 */
export const FORMAT_VERSION = 2;
const HEADER_BYTES = 5;

const ENTRY_PREFIX = 0x65; // 'e'
const ENTRY_KEY_LENGTH = 9;
const TWO_POW_32 = 2 ** 32;

export const HARD_STATE_KEY = Buffer.from('h');
export const SNAPSHOT_KEY = Buffer.from('s');

/** Range options that select every entry key and nothing else. */
export const ENTRY_KEY_RANGE = {
  gte: Buffer.from([ENTRY_PREFIX, 0, 0, 0, 0, 0, 0, 0, 0]),
  lte: Buffer.from([ENTRY_PREFIX, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
} as const;

/** Plain MessagePack, because records or shared structures would make a stored value depend on state outside it. */
const packr = new Packr({ useRecords: false });

/** Record of the current snapshot in LevelDB. The data itself is in the file. */
export interface SnapshotRecord {
  readonly meta: SnapshotMeta;
  /** File name inside the data folder. */
  readonly file: string;
  /** Size of the data in bytes. */
  readonly size: number;
  /** SHA-256 of the data. */
  readonly sha256: Uint8Array;
}

export function entryKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(ENTRY_KEY_LENGTH);
  key[0] = ENTRY_PREFIX;
  key.writeUInt32BE(Math.floor(index / TWO_POW_32), 1);
  key.writeUInt32BE(index % TWO_POW_32, 5);
  return key;
}

/** Returns the index of an entry key, or null when `key` is not an entry key. */
export function entryKeyIndex(key: Uint8Array): number | null {
  if (key.length !== ENTRY_KEY_LENGTH || key[0] !== ENTRY_PREFIX) return null;
  const view = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return view.readUInt32BE(1) * TWO_POW_32 + view.readUInt32BE(5);
}

export function encodeEntry(entry: Entry): Buffer {
  switch (entry.kind) {
    case 'noop':
      return encodeValue({ index: entry.index, term: entry.term, kind: entry.kind });
    case 'command':
      return encodeValue({ index: entry.index, term: entry.term, kind: entry.kind, data: entry.data });
    case 'config':
      return encodeValue({
        index: entry.index,
        term: entry.term,
        kind: entry.kind,
        membership: entry.membership,
      });
  }
}

export function encodeHardState(hardState: HardState): Buffer {
  return encodeValue({ term: hardState.term, vote: hardState.vote, commit: hardState.commit });
}

export function encodeSnapshotRecord(record: SnapshotRecord): Buffer {
  return encodeValue({
    index: record.meta.index,
    term: record.meta.term,
    membership: record.meta.membership,
    file: record.file,
    size: record.size,
    sha256: record.sha256,
  });
}

/** Decodes the entry stored under `key`. Throws STORAGE_CORRUPT when it is not a valid entry for that key. */
export function decodeEntry(key: Uint8Array, value: Uint8Array, path: string): Entry {
  const fields = decodeValue(key, value, path);
  const expectedIndex = entryKeyIndex(key);
  const { index, term, kind } = fields;
  if (!isCount(index, 1) || !isCount(term, 1))
    throw corrupt(key, path, 'index or term is not a positive integer');
  if (index !== expectedIndex) {
    throw corrupt(key, path, `the value contains the entry of index ${index}, not ${String(expectedIndex)}`);
  }

  switch (kind) {
    case 'noop':
      return { index, term, kind };
    case 'command': {
      const data = fields.data;
      if (!(data instanceof Uint8Array)) throw corrupt(key, path, 'command data is not binary');
      return { index, term, kind, data: plainBytes(data) };
    }
    case 'config': {
      const membership = fields.membership;
      if (!isMembership(membership)) throw corrupt(key, path, 'config membership has an invalid shape');
      return { index, term, kind, membership };
    }
    default:
      throw corrupt(key, path, `unknown entry kind ${String(kind)}`);
  }
}

export function decodeHardState(value: Uint8Array, path: string): HardState {
  const { term, vote, commit } = decodeValue(HARD_STATE_KEY, value, path);
  if (!isCount(term, 0) || !isCount(vote, 0) || !isCount(commit, 0)) {
    throw corrupt(HARD_STATE_KEY, path, 'term, vote or commit is not a non-negative integer');
  }
  return { term, vote, commit };
}

export function decodeSnapshotRecord(value: Uint8Array, path: string): SnapshotRecord {
  const { index, term, membership, file, size, sha256 } = decodeValue(SNAPSHOT_KEY, value, path);
  if (!isCount(index, 1) || !isCount(term, 1) || !isCount(size, 0)) {
    throw corrupt(SNAPSHOT_KEY, path, 'index, term or size is not an integer in range');
  }
  if (!isMembership(membership)) throw corrupt(SNAPSHOT_KEY, path, 'membership has an invalid shape');
  if (typeof file !== 'string' || !(sha256 instanceof Uint8Array) || sha256.length !== 32) {
    throw corrupt(SNAPSHOT_KEY, path, 'file name or SHA-256 is missing');
  }
  // The name is checked so that a damaged record cannot point outside the data folder.
  if (file !== snapshotFileName(index)) {
    throw corrupt(SNAPSHOT_KEY, path, `file name ${JSON.stringify(file)} is not ${snapshotFileName(index)}`);
  }
  return { meta: { index, term, membership }, file, size, sha256: plainBytes(sha256) };
}

/** Formats a LevelDB key for error messages: entry keys with their index, and every key in hex. */
export function describeKey(key: Uint8Array): string {
  const index = entryKeyIndex(key);
  if (index !== null) return `entry ${index} (key ${Buffer.from(key).toString('hex')})`;
  return `key ${Buffer.from(key).toString('hex')}`;
}

function encodeValue(fields: Record<string, unknown>): Buffer {
  return frameValue(packr.pack(fields));
}

/** Prefixes MessagePack bytes with the format version and their CRC-32, as stored values are. */
export function frameValue(packed: Uint8Array): Buffer {
  const value = Buffer.allocUnsafe(packed.length + HEADER_BYTES);
  value[0] = FORMAT_VERSION;
  value.writeUInt32BE(crc32(packed), 1);
  value.set(packed, HEADER_BYTES);
  return value;
}

function decodeValue(key: Uint8Array, value: Uint8Array, path: string): Record<string, unknown> {
  if (value.length === 0) throw corrupt(key, path, 'the value is empty');
  if (value[0] !== FORMAT_VERSION) {
    throw corrupt(key, path, `format version ${value[0]} is not the supported version ${FORMAT_VERSION}`);
  }
  if (value.length < HEADER_BYTES)
    throw corrupt(key, path, `the value has ${value.length} bytes, shorter than its header`);
  const packed = value.subarray(HEADER_BYTES);
  const stored = Buffer.from(value.buffer, value.byteOffset, value.length).readUInt32BE(1);
  if (crc32(packed) !== stored)
    throw corrupt(key, path, 'the CRC-32 does not match: the value changed after it was written');
  let fields: unknown;
  try {
    fields = packr.unpack(packed);
  } catch (err) {
    throw corrupt(key, path, 'the value is not valid MessagePack', err);
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw corrupt(key, path, 'the value is not a MessagePack map');
  }
  return fields as Record<string, unknown>;
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/** Views msgpackr's Buffer as a plain Uint8Array, the type MemoryStorage returns, so that both load equal states. */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function corrupt(key: Uint8Array, path: string, reason: string, cause?: unknown): StorageError {
  return new StorageError(
    'STORAGE_CORRUPT',
    `cannot decode ${describeKey(key)} in LevelDB at ${path}: ${reason}. ${CORRUPT_ADVICE}`,
    { path, key: Buffer.from(key).toString('hex'), cause },
  );
}
