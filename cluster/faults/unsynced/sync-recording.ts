import { rmSync } from 'node:fs';
import { access, appendFile, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Cluster, ServerHandle, ServerPlacement } from '../../launcher.js';
import { buildSyncShim } from './build-shim.js';
import { type RollbackSummary, rollBackToSynced } from './rollback.js';
import { parseJournal, replayJournal } from './sync-journal.js';

const SERVER_NAME = /^[A-Za-z0-9._-]+$/;
/** Signals that end a run: Ctrl-C, a plain kill, and a closed terminal. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const recordings = new WeakMap<Cluster, SyncRecording>();

/**
 * The sync shim of one fault run: the compiled library and one journal per server, in a folder of
 * their own. Servers started with commandPrefix() record every fsync, rename and unlink under
 * `root`, and rollBack() cuts a stopped server's data folder back to what it synced. The folder
 * goes with close(), or on a stop signal or the process's exit before it.
 */
export class SyncRecording {
  /** Folder with the shim library and the journals. */
  readonly folder: string;
  /** Real path of the folder under which files are recorded. */
  readonly root: string;
  readonly #library: string;
  #closed = false;
  readonly #removeNow = () => this.#removeSync();
  readonly #onSignal = (signal: NodeJS.Signals) => {
    this.#removeSync();
    // With no other handler left (the launcher's comes only with the cluster), the signal's
    // default action ends the process, as it would have without this handler.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  private constructor(folder: string, root: string, library: string) {
    this.folder = folder;
    this.root = root;
    this.#library = library;
    for (const signal of STOP_SIGNALS) process.on(signal, this.#onSignal);
    process.on('exit', this.#removeNow);
  }

  /** Compiles the shim into a new temporary folder. Files under `root` will be recorded. */
  static async create(root: string): Promise<SyncRecording> {
    const realRoot = await realpath(root);
    const folder = await mkdtemp(join(tmpdir(), 'signet-unsynced-'));
    try {
      // The loader splits LD_PRELOAD at colons and spaces, and ignores a library it cannot find.
      if (/[:\s]/.test(folder)) {
        throw new Error(
          `cannot use the sync shim from ${JSON.stringify(folder)}: LD_PRELOAD cannot name a path with a colon or a space; set TMPDIR to a folder without them`,
        );
      }
      return new SyncRecording(folder, realRoot, await buildSyncShim(folder));
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * Raises unless every one of `servers` loaded the shim. The shim creates a server's journal as it
   * loads, before the server writes a byte, so a missing journal means that server records nothing
   * and a rollback of it would be impossible.
   */
  async requireLoaded(servers: readonly ServerHandle[]): Promise<void> {
    const missing: string[] = [];
    for (const server of servers) {
      try {
        await access(this.journalPath(server.name));
      } catch {
        missing.push(server.name);
      }
    }
    if (missing.length > 0) {
      throw new Error(
        `the sync shim is not loaded in ${missing.join(', ')}: no journal in ${this.folder}, so lose-unsynced cannot roll them back`,
      );
    }
  }

  /** Returns the recording attached to `cluster`, or undefined when its servers run without the shim. */
  static find(cluster: Cluster): SyncRecording | undefined {
    return recordings.get(cluster);
  }

  /**
   * Records that the stopped `server`'s data folder is about to be emptied from outside the shim
   * (a server that rejoins under a new Raft id). Without this, the folder's old syncs would stay in
   * the journal, and a new file with an old name would keep up to the old synced size.
   */
  async forget(server: ServerHandle): Promise<void> {
    if (server.state !== 'stopped')
      throw new Error(`cannot forget the syncs of ${server.name} while it is ${server.state}; stop it first`);
    const dataDir = await realpath(server.dataDir);
    await appendFile(this.journalPath(server.name), `U\t${dataDir}\n`);
  }

  /** Makes this recording the one that SyncRecording.find(cluster) returns. */
  attach(cluster: Cluster): void {
    recordings.set(cluster, this);
  }

  journalPath(serverName: string): string {
    if (!SERVER_NAME.test(serverName))
      throw new Error(`invalid server name ${JSON.stringify(serverName)} for a sync journal file`);
    return join(this.folder, `${serverName}.journal`);
  }

  /**
   * Returns the `env ...` command prefix that starts server `serverName` under the shim. libuv
   * would send a file's fsync through io_uring, where the shim cannot see it, so it is turned off.
   */
  commandPrefix(serverName: string): string[] {
    return [
      'env',
      `LD_PRELOAD=${this.#library}`,
      `SIGNET_SYNC_ROOT=${this.root}`,
      `SIGNET_SYNC_JOURNAL=${this.journalPath(serverName)}`,
      'UV_USE_IO_URING=0',
    ];
  }

  /**
   * Rolls the data folder of the stopped `server` back to what it synced, by its journal. The
   * data folder contains everything the server writes: its id, founding promise and Raft storage.
   */
  async rollBack(server: ServerHandle): Promise<RollbackSummary> {
    if (server.state !== 'stopped')
      throw new Error(`cannot roll back ${server.name} while it is ${server.state}; kill it first`);
    const dataDir = await realpath(server.dataDir);
    const path = relative(this.root, dataDir);
    if (path === '..' || path.startsWith('../'))
      throw new Error(
        `cannot roll back ${server.name}: its data folder ${dataDir} is not under ${this.root}`,
      );

    const journal = this.journalPath(server.name);
    let text: string;
    try {
      text = await readFile(journal, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The shim creates the journal when the process loads it, before the server writes a byte.
      throw new Error(
        `cannot roll back ${server.name}: it has no sync journal ${journal}, so it did not run under the sync shim`,
      );
    }
    return rollBackToSynced(dataDir, replayJournal(parseJournal(text, journal)));
  }

  /** Removes the folder, unless `keep` is set (to read the journals after a violation). */
  async close(options: { keep?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#unwatchProcess();
    this.#closed = true;
    if (options.keep !== true) await rm(this.folder, { recursive: true, force: true });
  }

  /**
   * Removes the folder at once. It unregisters itself, so that a signal's other handlers (the
   * launcher's stop) still decide whether the signal ends the process. Running servers keep their
   * open journal and the loaded library.
   */
  #removeSync(): void {
    if (this.#closed) return;
    this.#unwatchProcess();
    this.#closed = true;
    rmSync(this.folder, { recursive: true, force: true });
  }

  #unwatchProcess(): void {
    for (const signal of STOP_SIGNALS) process.off(signal, this.#onSignal);
    process.off('exit', this.#removeNow);
  }
}

/**
 * Returns a placeServer function that starts every server under `recording`'s shim, before the
 * prefix of `place` (an `ip netns exec` for a network run), or `place` itself without a recording.
 */
export function placeUnderRecording(
  recording: SyncRecording | null,
  place: ((name: string) => ServerPlacement) | undefined,
): ((name: string) => ServerPlacement) | undefined {
  if (recording === null) return place;
  return (name) => {
    const inner = place?.(name);
    return {
      host: inner?.host ?? '127.0.0.1',
      commandPrefix: [...recording.commandPrefix(name), ...(inner?.commandPrefix ?? [])],
    };
  };
}
