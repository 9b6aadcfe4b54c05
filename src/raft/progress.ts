import type { NodeId } from './types.js';

/**
 * Replication mode of one follower on the leader.
 * - probe: one append at a time, until the follower's match index is found.
 * - replicate: appends are pipelined, bounded by the in-flight window.
 * - snapshot: the follower needs a snapshot, sent chunk by chunk with one chunk in flight.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

interface Inflight {
  readonly lastIndex: number;
  readonly bytes: number;
}

/**
 * The leader's view of one follower. Invariant: match < next.
 */
export class Progress {
  readonly id: NodeId;
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and no response has come back yet. */
  probeSent = false;
  /** Set on any response from the follower; cleared by every CheckQuorum round. */
  recentActive = false;
  /** Leader tick of the follower's last response; -Infinity until it responds in this term. */
  lastActiveTick = Number.NEGATIVE_INFINITY;
  /** Heartbeat responses seen in replicate state while appends stayed unacknowledged. */
  stalledHeartbeats = 0;
  /** In snapshot state: index of the snapshot being sent, and the byte offset the follower has. */
  snapshotIndex = 0;
  snapshotOffset = 0;
  /** In snapshot state: heartbeats sent since the last chunk, which decide when to resend it. */
  heartbeatsSinceChunk = 0;
  #inflights: Inflight[] = [];
  #inflightBytes = 0;

  constructor(id: NodeId, next: number) {
    this.id = id;
    this.next = next;
  }

  /** Raises match (and next) after a successful append; false when the response was stale. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.match) {
      this.match = index;
      this.probeSent = false;
      this.stalledHeartbeats = 0;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * Moves next back after a rejection of the append whose prevIndex was `rejected`.
   * `hintNext` is where the follower's log may start to match. Returns false for a stale rejection.
   */
  maybeDecreaseTo(rejected: number, hintNext: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    const next = Math.max(Math.min(rejected, hintNext), this.match + 1);
    // The follower rejects the probe at match + 1 only if it lost entries it had acknowledged (a
    // disk fault). Probing again at once would loop without end, so wait for the next heartbeat.
    if (next === this.next) return false;
    this.next = next;
    this.probeSent = false;
    return true;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.snapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.#reset('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.#reset('replicate');
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.#reset('snapshot');
    this.snapshotIndex = snapshotIndex;
    this.snapshotOffset = 0;
  }

  #reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.stalledHeartbeats = 0;
    this.snapshotIndex = 0;
    this.snapshotOffset = 0;
    this.#inflights = [];
    this.#inflightBytes = 0;
  }

  /** Whether the leader must wait before sending this follower another append. */
  isPaused(maxInflight: number, maxInflightBytes: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.#inflights.length >= maxInflight || this.#inflightBytes >= maxInflightBytes;
      case 'snapshot':
        return true;
    }
  }

  get inflightCount(): number {
    return this.#inflights.length;
  }

  /** Records an append in flight (replicate state) or marks the probe as sent. */
  onAppendSent(lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      this.next = lastIndex + 1;
      if (bytes > 0) {
        this.#inflights.push({ lastIndex, bytes });
        this.#inflightBytes += bytes;
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Frees the in-flight appends that an acknowledgement up to `index` covers. */
  freeInflightsTo(index: number): void {
    while (this.#inflights.length > 0 && this.#inflights[0]!.lastIndex <= index) {
      this.#inflightBytes -= this.#inflights.shift()!.bytes;
    }
  }
}
