import type { StateMachine } from '../raft/driver.js';
import type { CommandEntry, Snapshot } from '../raft/types.js';
import type { ApplyResult, StateStore } from '../state/store.js';

/** Connects the state store to the Raft driver: committed entries in, snapshots out and in. */
export class ReplicatedState implements StateMachine {
  readonly #store: StateStore;
  #capacityFreedIndex = 0;

  /**
   * Raft index of the last applied entry that freed capacity (see ApplyResult.capacityFreed). It is
   * not kept in snapshots, because it only signals when blocked evaluations are worth retrying.
   */
  get capacityFreedIndex(): number {
    return this.#capacityFreedIndex;
  }

  constructor(store: StateStore) {
    this.#store = store;
  }

  apply(entry: CommandEntry): ApplyResult {
    const result = this.#store.apply(entry.index, entry.data);
    // A command this server cannot decode came from a newer version: applying the rest of the log
    // without it would let this copy of the state drift from the others, so the server stops.
    if (!result.ok && result.reason === 'undecodable') {
      throw new Error(
        `cannot apply the entry at index ${entry.index}: ${result.message}; upgrade this server to the version of the leader`,
      );
    }
    if (result.ok && result.capacityFreed === true) this.#capacityFreedIndex = entry.index;
    return result;
  }

  advanceTo(index: number): void {
    this.#store.advanceTo(index);
  }

  snapshot(): Uint8Array {
    return this.#store.snapshot();
  }

  restore(snapshot: Snapshot): void {
    this.#store.restore(snapshot.data);
  }
}
