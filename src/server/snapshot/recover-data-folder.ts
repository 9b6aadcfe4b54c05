import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasMarker } from '../../raft/storage/data-folder.js';
import { LevelStorage } from '../../raft/storage/level.js';
import { StorageError } from '../../raft/storage/storage.js';
import type { Membership, NodeId } from '../../raft/types.js';
import { StateStore } from '../../state/store.js';
import { loadOrCreateServerId, serverPaths } from '../server-id.js';
import { type CheckedArchive, readArchiveFile } from './archive-file.js';
import { type StateSummary, summarizeState } from './archive-state.js';
import { RecoverError } from './recover-error.js';
import { replayDurableState, storedMembers } from './replay-log.js';

export interface RecoverOptions {
  /** The server's data_dir: the folder that contains `server/`. */
  readonly dataDir: string;
  /** Snapshot archive whose state replaces the server's own; absent to keep the server's state. */
  readonly snapshotFile?: string | undefined;
}

/** Origin of the recovered state. */
export type RecoverSource =
  | {
      readonly kind: 'log';
      /** Index of the server's stored snapshot, 0 for none. */
      readonly snapshotIndex: number;
      /** Index of the last entry in the server's log. */
      readonly lastIndex: number;
      /** Entries applied on top of the stored snapshot, uncommitted ones included. */
      readonly entriesApplied: number;
    }
  | { readonly kind: 'snapshot-file'; readonly path: string; readonly index: number; readonly term: number };

export interface RecoverResult {
  readonly dataDir: string;
  readonly serverId: NodeId;
  /** Raft index of the recovery snapshot: one above every index the folder or the file held. */
  readonly index: number;
  /** Raft term of the recovery snapshot: one above every term the folder or the file held. */
  readonly term: number;
  /** The new configuration: this server the only voter, every other known server removed. */
  readonly membership: Membership;
  /** Membership stored in the folder before the recovery, or null when it held none. */
  readonly previousMembership: Membership | null;
  readonly source: RecoverSource;
  readonly summary: StateSummary;
}

/**
 * Makes the stopped server whose data folder is `dataDir` the single voter of a new configuration,
 * keeping its own state (snapshot plus every log entry) or replacing it with a snapshot archive's.
 *
 * One durable save, through the same storage the server runs on, does it all. It writes a Raft
 * snapshot of the state at index `index` whose membership names this server as the only voter.
 * Every other server ever seen (in the folder's log and snapshot, the archive's header and the
 * replicated servers table) is marked removed. The same save deletes the whole log and writes a
 * hard state at `term` with no vote. Before that write the folder is unchanged, and after it the
 * folder is recovered, so a crash in between is harmless. Index and term are one above anything
 * the folder or the archive contains, so no entry known here has the same index and term. Old
 * servers whose logs end in an earlier term are refused votes, because they are not voters and
 * their logs are older.
 *
 * NOTE: an old server that still runs with its data can still depose the recovered server with a
 * higher term and overwrite it, as after Nomad's peers.json recovery. Stop the old servers and
 * delete their data folders before starting this one.
 *
 * Throws RecoverError, SnapshotArchiveError (a bad archive) or StorageError (a damaged folder).
 * On any error the stored Raft state is unchanged.
 */
export async function recoverDataFolder(options: RecoverOptions): Promise<RecoverResult> {
  const dataDir = resolve(options.dataDir);
  await requireFolder(dataDir);
  const checked =
    options.snapshotFile === undefined ? null : await readArchiveFile(resolve(options.snapshotFile));
  const paths = serverPaths(dataDir);
  if (checked === null && !(await hasMarker(paths.raftDir))) throw noRaftState(dataDir);

  const storage = await openStorage(paths.raftDir, dataDir, checked);
  try {
    const durable = await storage.load();
    const ownLastIndex = Math.max(durable.snapshot?.meta.index ?? 0, durable.entries.at(-1)?.index ?? 0);
    if (checked === null && durable.hardState.term === 0 && ownLastIndex === 0) throw noRaftState(dataDir);
    const serverId = await loadOrCreateServerId(paths.idFile);

    let store: StateStore;
    let source: RecoverSource;
    if (checked === null) {
      const replayed = replayDurableState(durable, paths.raftDir);
      store = replayed.store;
      source = {
        kind: 'log',
        snapshotIndex: durable.snapshot?.meta.index ?? 0,
        lastIndex: replayed.lastIndex,
        entriesApplied: replayed.entriesApplied,
      };
    } else {
      store = new StateStore();
      store.restore(checked.archive.state);
      const { index, term } = checked.archive.header;
      source = { kind: 'snapshot-file', path: checked.path, index, term };
    }

    const index = Math.max(ownLastIndex, checked?.archive.header.index ?? 0) + 1;
    const term = Math.max(durable.hardState.term, checked?.archive.header.term ?? 0) + 1;
    const members = storedMembers(durable);
    const known = new Set<NodeId>(members.ids);
    for (const id of membershipIds(checked?.archive.header.membership)) known.add(id);
    for (const server of store.servers()) known.add(server.id);
    known.delete(serverId);
    const membership: Membership = {
      voters: [serverId],
      learners: [],
      removed: [...known].sort((a, b) => a - b),
    };

    // The state now reflects the recovery snapshot's index, as a snapshot taken there would.
    store.advanceTo(index);
    const data = store.snapshot();
    // Decoding what is about to be written proves that the server can start from it.
    const summary = summarizeState(data);

    await storage.save({
      snapshot: { meta: { index, term, membership }, data },
      truncateFrom: null,
      // Every stored entry belongs to the old configuration's history; none may stay below the
      // new snapshot, or a follower could be sent old configuration entries.
      compactTo: index - 1,
      entries: [],
      hardState: { term, vote: 0, commit: index },
    });
    return {
      dataDir,
      serverId,
      index,
      term,
      membership,
      previousMembership: members.latest,
      source,
      summary,
    };
  } finally {
    await storage.close();
  }
}

async function requireFolder(dataDir: string): Promise<void> {
  let isFolder: boolean;
  try {
    isFolder = (await stat(dataDir)).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new RecoverError(
      'DATA_DIR_MISSING',
      dataDir,
      `data folder ${dataDir} does not exist; pass the data_dir of the stopped server (to restore a snapshot into a new server, create an empty folder first)`,
    );
  }
  if (!isFolder) {
    throw new RecoverError(
      'DATA_DIR_INVALID',
      dataDir,
      `data folder ${dataDir} is not a folder; pass the server's data_dir`,
    );
  }
}

function noRaftState(dataDir: string): RecoverError {
  return new RecoverError(
    'NO_RAFT_STATE',
    dataDir,
    `data folder ${dataDir} contains no Raft state, so there is nothing to recover; check -data-dir, or pass -snapshot FILE to restore a snapshot into it`,
  );
}

/**
 * Opens the folder's Raft storage, which takes its LevelDB lock for the whole recovery. A running
 * server holds that lock, so this is what rejects the folder of a live server.
 */
async function openStorage(
  raftDir: string,
  dataDir: string,
  checked: CheckedArchive | null,
): Promise<LevelStorage> {
  try {
    return await LevelStorage.open(raftDir);
  } catch (err) {
    if (!(err instanceof StorageError)) throw err;
    if (err.code === 'STORAGE_LOCKED') {
      throw new RecoverError(
        'SERVER_RUNNING',
        dataDir,
        `cannot recover ${dataDir}: a running process holds the lock of its Raft storage (${err.path}/LOCK); stop the server that uses this data folder and run recover again`,
        { cause: err },
      );
    }
    if (err.code === 'STORAGE_CORRUPT' && checked !== null) {
      throw new StorageError(
        err.code,
        `${err.message} To restore the snapshot file anyway, move ${raftDir} aside and run recover again.`,
        { path: err.path, cause: err },
      );
    }
    throw err;
  }
}

function membershipIds(membership: Membership | undefined): NodeId[] {
  if (membership === undefined) return [];
  return [...membership.voters, ...membership.learners, ...membership.removed];
}
