import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { type FieldErrorFactory, invalidSnapshotField } from './errors.js';
import { describeValue, readFields, readInteger, readString } from './fields.js';
import type { Table, TableSpec, Transaction } from './table.js';

/** A server in the agent's directory of servers, keyed by its Raft id. */
export interface ServerRecord {
  /** Raft id: a random positive integer below 2^48, shown in the API as a decimal string. */
  readonly id: number;
  readonly name: string;
  /** `host:port` of the server's RPC listener. */
  readonly rpcAddr: string;
  /** `host:port` of the server's HTTP API. */
  readonly httpAddr: string;
}

export const MAX_SERVER_ID = 2 ** 48 - 1;
// NOTE: this limit is Signet's own choice, not Nomad's.
export const MAX_SERVER_NAME_BYTES = 256;

// A hostname, an IPv4 address or a bracketed IPv6 address, then a decimal port.
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/;

function readHostPort(value: unknown, field: string, fail: FieldErrorFactory): string {
  const address = readString(value, field, fail);
  const match = HOST_PORT.exec(address);
  const port = match === null ? 0 : Number(match[1]);
  if (port < 1 || port > 65_535) {
    throw fail(field, `must be host:port with a port from 1 to 65535, got ${describeValue(address)}`);
  }
  return address;
}

/** Checks a server record and returns a frozen copy with its fields in a fixed order. */
export function readServerRecord(value: unknown, field: string, fail: FieldErrorFactory): ServerRecord {
  const fields = readFields(value, field, ['id', 'name', 'rpcAddr', 'httpAddr'], fail);
  return Object.freeze({
    id: readInteger(fields.id, `${field}.id`, fail, 1, MAX_SERVER_ID),
    name: readString(fields.name, `${field}.name`, fail, { minBytes: 1, maxBytes: MAX_SERVER_NAME_BYTES }),
    rpcAddr: readHostPort(fields.rpcAddr, `${field}.rpcAddr`, fail),
    httpAddr: readHostPort(fields.httpAddr, `${field}.httpAddr`, fail),
  });
}

export function upsertServer(
  txn: Transaction,
  table: Table<number, ServerRecord>,
  server: ServerRecord,
): ApplyResult {
  txn.draft(table).put(server.id, Object.freeze({ ...server }));
  return APPLIED;
}

/** Deletes a server; 404 when the id is unknown, like a missing namespace. */
export function deleteServer(txn: Transaction, table: Table<number, ServerRecord>, id: number): ApplyResult {
  const draft = txn.draft(table);
  if (draft.get(id) === null) return rejected(404, `server ${id} not found`);
  draft.delete(id);
  return APPLIED;
}

export const serverTableSpec: TableSpec<number, ServerRecord> = {
  name: 'servers',
  sinceSnapshotVersion: 1,
  keyOf: (row) => row.id,
  compareKeys: (a, b) => a - b,
  initialRows: () => [],
  decodeRow: (value, field) => readServerRecord(value, field, invalidSnapshotField),
  checkRows() {},
  indexes: {},
};
