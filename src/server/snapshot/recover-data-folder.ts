import { resolve } from 'node:path';
import { emptyState } from '../../raft/bootstrap.js';
import { hasMarker } from '../../raft/storage/data-folder.js';
import { LevelStorage } from '../../raft/storage/level.js';
import { StorageError } from '../../raft/storage/storage.js';
import type { Membership, NodeId } from '../../raft/types.js';
import { StateStore } from '../../state/store.js';
import { loadOrCreateServerId, serverPaths } from '../server-id.js';
import { type CheckedArchive, readArchiveFile } from './archive-file.js';
import { type StateSummary, summarizeState } from './archive-state.js';
import { checkDataDir, exists } from './check-data-dir.js';
import { RecoverError } from './recover-error.js';
import { type LogPosition, lastLogPosition, replayDurableState, storedMembers } from './replay-log.js';

export interface RecoverOptions {
  /** The server's data_dir: the folder that contains `server/`. */
  readonly dataDir: string;
  /** Snapshot archive whose state replaces the server's own; absent to keep the server's state. */
  readonly snapshotFile?: string | undefined;
  /** Check and compute everything, but leave the folder as it is. */
  readonly dryRun?: boolean | undefined;
  /**
   * Recover from the server's own log even when it was a learner, removed or not a member of the
   * stored configuration (its state may be older than the lost cluster's). Without it such a
   * folder is rejected with NOT_A_VOTER.
   */
  readonly force?: boolean | undefined;
  /** Called with the folder's Raft facts once all checks passed, before anything is written. */
  readonly beforeWrite?: ((folder: FolderRaftState) => void) | undefined;
}

/** Raft facts of the data folder before the recovery. */
export interface FolderRaftState {
  /** Last entry of the log (or the snapshot's index and term): the pair Raft orders logs by. */
  readonly lastLog: LogPosition;
  /** Commit index stored in the hard state. It can lag the cluster's, because followers learn it late. */
  readonly commitIndex: number;
  readonly term: number;
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
      /** Applied entries above the stored commit index, which may never have committed. */
      readonly entriesAboveCommit: number;
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
  /** The folder's Raft facts before the recovery. */
  readonly folder: FolderRaftState;
  /** False for a dry run, which wrote nothing. */
  readonly written: boolean;
  /**
   * For a recovery from the server's own log: its role in the stored configuration when it was
   * not a voter there (recovered only with `force`), else null.
   */
  readonly previousRole: 'learner' | 'removed' | 'not a member' | null;
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
 * NOTE: an old server that comes back with its data and a log in a higher term can still win this
 * server's vote before it has elected itself, or depose it with a heartbeat when it leads old
 * servers. This server then follows it and commits nothing (test/snapshot/recover-old-server.test.ts).
 * Stop the old servers and delete their data folders before starting this one.
 *
 * Throws RecoverError, SnapshotArchiveError (a bad archive) or StorageError (a damaged folder).
 * On any error the stored Raft state is unchanged.
 */
export async function recoverDataFolder(options: RecoverOptions): Promise<RecoverResult> {
  // resolve('') is the working folder, so an unset `-data-dir "$DATA_DIR"` would recover it.
  if (options.dataDir.trim() === '') {
    throw new RecoverError(
      'DATA_DIR_INVALID',
      options.dataDir,
      "data folder path is empty; pass the stopped server's data_dir",
    );
  }
  const dataDir = resolve(options.dataDir);
  await checkDataDir(dataDir);
  const checked =
    options.snapshotFile === undefined ? null : await readArchiveFile(resolve(options.snapshotFile));
  const paths = serverPaths(dataDir);
  const hasRaftState = await hasMarker(paths.raftDir);
  if (checked === null && !hasRaftState) throw noRaftState(dataDir);

  // A dry run on a folder without Raft state opens no storage, because opening creates it.
  const dryRun = options.dryRun === true;
  const storage = dryRun && !hasRaftState ? null : await openStorage(paths.raftDir, dataDir, checked);
  try {
    const durable = storage === null ? emptyState() : await storage.load();
    const lastLog = lastLogPosition(durable);
    if (checked === null && durable.hardState.term === 0 && lastLog.index === 0) throw noRaftState(dataDir);
    const members = storedMembers(durable);
    const folder: FolderRaftState = {
      lastLog,
      commitIndex: durable.hardState.commit,
      term: durable.hardState.term,
    };

    // A dry run draws no id for a new folder: 0 stands for the id the real run would draw.
    const serverId = dryRun && !(await exists(paths.idFile)) ? 0 : await loadOrCreateServerId(paths.idFile);

    let store: StateStore;
    let source: RecoverSource;
    let previousRole: RecoverResult['previousRole'] = null;
    if (checked === null) {
      previousRole = roleOf(members.latest, serverId);
      if (previousRole !== null && options.force !== true) throw notAVoter(dataDir, previousRole);
      const replayed = replayDurableState(durable, paths.raftDir);
      store = replayed.store;
      source = {
        kind: 'log',
        snapshotIndex: durable.snapshot?.meta.index ?? 0,
        lastIndex: replayed.lastIndex,
        entriesApplied: replayed.entriesApplied,
        entriesAboveCommit: replayed.entriesAboveCommit,
      };
    } else {
      store = new StateStore();
      store.restore(checked.archive.state);
      const { index, term } = checked.archive.header;
      source = { kind: 'snapshot-file', path: checked.path, index, term };
    }

    const index = Math.max(lastLog.index, checked?.archive.header.index ?? 0) + 1;
    const term = Math.max(durable.hardState.term, checked?.archive.header.term ?? 0) + 1;
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

    options.beforeWrite?.(folder);
    if (storage !== null && !dryRun) {
      await storage.save({
        snapshot: { meta: { index, term, membership }, data },
        truncateFrom: null,
        // Every stored entry belongs to the old configuration's history; none may stay below the
        // new snapshot, or a follower could be sent old configuration entries.
        compactTo: index - 1,
        entries: [],
        hardState: { term, vote: 0, commit: index },
      });
    }
    return {
      dataDir,
      serverId,
      index,
      term,
      membership,
      previousMembership: members.latest,
      folder,
      written: !dryRun,
      previousRole,
      source,
      summary,
    };
  } finally {
    await storage?.close();
  }
}

/** Returns the server's role in `membership` when it is not a voter there, else null (also for no membership). */
function roleOf(membership: Membership | null, id: NodeId): RecoverResult['previousRole'] {
  if (membership === null || membership.voters.includes(id)) return null;
  if (membership.learners.includes(id)) return 'learner';
  if (membership.removed.includes(id)) return 'removed';
  return 'not a member';
}

/** Returns how a message names a server in `role`: "a learner", "a removed server" or "not a member". */
export function describeRole(role: NonNullable<RecoverResult['previousRole']>): string {
  if (role === 'learner') return 'a learner';
  if (role === 'removed') return 'a removed server';
  return 'not a member';
}

function notAVoter(dataDir: string, role: NonNullable<RecoverResult['previousRole']>): RecoverError {
  const was = describeRole(role);
  return new RecoverError(
    'NOT_A_VOTER',
    dataDir,
    `cannot recover ${dataDir}: this server was ${was} of the stored configuration, so its state may be older than the lost cluster's; recover a server that was a voter, or pass -force to recover this one anyway`,
  );
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
