import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LevelStorage } from '../../src/raft/storage/level.js';
import type { DurableState, Entry, Membership, NodeId } from '../../src/raft/types.js';
import { serverPaths } from '../../src/server/server-id.js';
import { encodeSnapshotArchive } from '../../src/server/snapshot/archive-format.js';
import { encodeCommand } from '../../src/state/commands.js';
import { StateStore } from '../../src/state/store.js';

/** Creates a fresh temporary folder; remove it with `rm(dir, { recursive: true, force: true })`. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `signet-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function namespaceCommand(name: string): Uint8Array {
  return encodeCommand({
    type: 'namespace-upsert',
    v: 1,
    namespace: { Name: name, Description: '', Meta: null },
  });
}

export function serverCommand(id: NodeId, port: number): Uint8Array {
  return encodeCommand({
    type: 'server-upsert',
    v: 1,
    server: { id, name: `s${id}`, rpcAddr: `127.0.0.1:${port}`, httpAddr: `127.0.0.1:${port + 1}` },
  });
}

export function membership(voters: NodeId[], removed: NodeId[] = []): Membership {
  return { voters, learners: [], removed };
}

export interface RaftFolderSpec {
  /** This server's id, written to server/node-id. */
  readonly id: NodeId;
  /** The founding voters, in the configuration entry at index 1. */
  readonly voters: NodeId[];
  /** Command entries after the founding entry and a no-op, in term `term`. */
  readonly commands: readonly Uint8Array[];
  readonly term: number;
  /** Commit index on disk; entries above it are stored but not known to be committed. */
  readonly commit: number;
  /** Take a snapshot (and compact the log) at this index after writing the entries. */
  readonly snapshotAt?: number;
}

/**
 * Writes a server's data folder the way a running server leaves it: node-id, then a Raft log of a
 * founding configuration (index 1, term 1), a no-op (index 2) and the commands, with a vote for
 * itself in `term`. Returns the durable state as storage loads it.
 */
export async function writeRaftFolder(dataDir: string, spec: RaftFolderSpec): Promise<DurableState> {
  const paths = serverPaths(dataDir);
  await mkdir(dirname(paths.idFile), { recursive: true });
  await writeFile(paths.idFile, `${spec.id}\n`);
  const entries: Entry[] = [
    { kind: 'config', index: 1, term: 1, membership: membership(spec.voters) },
    { kind: 'noop', index: 2, term: spec.term },
    ...spec.commands.map((data, i): Entry => ({ kind: 'command', index: 3 + i, term: spec.term, data })),
  ];
  const storage = await LevelStorage.open(paths.raftDir);
  try {
    await storage.save({
      snapshot: null,
      truncateFrom: null,
      compactTo: null,
      entries,
      hardState: { term: spec.term, vote: spec.id, commit: spec.commit },
    });
    if (spec.snapshotAt !== undefined) {
      const store = new StateStore();
      for (const entry of entries) {
        if (entry.index > spec.snapshotAt) break;
        if (entry.kind === 'command') store.apply(entry.index, entry.data);
        else store.advanceTo(entry.index);
      }
      await storage.save({
        snapshot: {
          meta: { index: spec.snapshotAt, term: spec.term, membership: membership(spec.voters) },
          data: store.snapshot(),
        },
        truncateFrom: null,
        compactTo: spec.snapshotAt,
        entries: [],
        hardState: null,
      });
    }
    return await storage.load();
  } finally {
    await storage.close();
  }
}

/** Loads what a data folder's Raft storage holds, as a server starting on it would. */
export async function loadRaftFolder(dataDir: string): Promise<DurableState> {
  const storage = await LevelStorage.open(serverPaths(dataDir).raftDir);
  try {
    return await storage.load();
  } finally {
    await storage.close();
  }
}

/** Builds a state with the given namespaces and server records, applied from index 1 on. */
export function stateWith(names: readonly string[], servers: readonly NodeId[] = []): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  let index = 1;
  for (const id of servers) store.apply(++index, serverCommand(id, 4000 + index * 10));
  for (const name of names) store.apply(++index, namespaceCommand(name));
  return store;
}

/** Wraps a state in an archive, with the state's own index. */
export function archiveOf(store: StateStore, term: number, members: Membership): Promise<Buffer> {
  return encodeSnapshotArchive(
    {
      index: store.latestIndex,
      term,
      membership: members,
      createdAt: '2026-12-04T10:00:00.000Z',
      signetVersion: '0.1.0',
    },
    store.snapshot(),
  );
}

/** Namespace names of a state, sorted. */
export function namespaceNames(store: StateStore): string[] {
  return store.namespaces().map((namespace) => namespace.Name);
}
