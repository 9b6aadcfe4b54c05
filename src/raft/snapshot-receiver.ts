import type { SnapshotRequest } from './messages.js';

/**
 * Assembles the chunks of one InstallSnapshot transfer on a follower. Chunks must arrive in
 * order. A duplicate or out-of-order chunk is ignored, and the follower reports the offset it
 * needs so the leader can resume from there. A new transfer starts only with a chunk at offset 0
 * of a newer snapshot, or of any snapshot from a leader of a later term. So a delayed chunk of an
 * older snapshot cannot discard the transfer in progress. The buffer is volatile: after a crash
 * the transfer starts over.
 */
export class SnapshotReceiver {
  #index = 0;
  #term = 0;
  /** Term of the leader that sent the transfer in progress. */
  #leaderTerm = 0;
  #chunks: Uint8Array[] = [];
  #received = 0;

  /** Bytes received so far of this request's transfer, or 0 when another transfer is in progress. */
  receivedOf(request: SnapshotRequest): number {
    return this.#isCurrent(request) ? this.#received : 0;
  }

  /** Takes one chunk; returns the whole snapshot data once the last chunk completes it, else null. */
  receive(request: SnapshotRequest): Uint8Array | null {
    const { meta, offset } = request;
    // A transfer belongs to one leader: two leaders' snapshots at the same index may encode the
    // same state in different bytes, so their chunks must never be spliced together.
    if (!this.#isCurrent(request)) {
      const newer =
        request.term > this.#leaderTerm || (request.term === this.#leaderTerm && meta.index > this.#index);
      if (offset !== 0 || !newer) return null;
      this.#reset(meta.index, meta.term);
      this.#leaderTerm = request.term;
    }
    if (offset !== this.#received) return null;

    this.#chunks.push(request.data);
    this.#received += request.data.length;
    if (!request.done) return null;

    // TODO: bound the snapshot size and stream chunks to a file: joining them here is one
    // synchronous copy (about 170 ms for 256 MiB on a 2-core VM), over the 10 ms event-loop budget.
    const data = concat(this.#chunks, this.#received);
    this.#reset(0, 0);
    return data;
  }

  #isCurrent(request: SnapshotRequest): boolean {
    return (
      request.meta.index === this.#index &&
      request.meta.term === this.#term &&
      request.term === this.#leaderTerm
    );
  }

  #reset(index: number, term: number): void {
    this.#index = index;
    this.#term = term;
    this.#chunks = [];
    this.#received = 0;
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const data = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    data.set(chunk, at);
    at += chunk.length;
  }
  return data;
}
