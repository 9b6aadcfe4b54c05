import type { Logger } from 'pino';
import { redialDelayMs } from '../rpc/backoff.js';
import { abortableSleep } from './abortable-sleep.js';
import type { ClientAllocation } from './client-allocation.js';
import { ClientRpcError } from './client-rpc-error.js';
import type { NodeIdentity } from './node-identity.js';
import type { ClientRpc } from './rpc-client.js';

/**
 * Allocations asked for in one Alloc.GetAllocs. Each carries its job, which may be large, so a
 * small number keeps responses under the client frame limit (4 MiB) in the usual case.
 */
const PULL_CHUNK = 64;

/** Result of one round of the watch. */
export interface AllocChanges {
  /** Allocations that are new to the client or that the servers changed since the client last pulled them. */
  readonly updated: readonly ClientAllocation[];
  /** IDs of every allocation that the servers place on this node now. */
  readonly present: ReadonlySet<string>;
}

export interface AllocWatcherOptions {
  readonly rpc: ClientRpc;
  readonly identity: NodeIdentity;
  readonly logger: Logger;
  /** How long one Node.GetClientAllocs waits for a change, in ms. Default 60,000. */
  readonly maxQueryTimeMs?: number;
  /** Maximum pause after a failed round, in ms. Default 5000. */
  readonly retryCapMs?: number;
  /** Handles one round; the next round starts only after it resolves. */
  readonly onChanges: (changes: AllocChanges) => Promise<void>;
  /** Called when the servers no longer know the node (404), so the agent registers it again. */
  readonly onNodeNotFound: () => Promise<void>;
}

/**
 * Learns the node's allocations the way Nomad's client does. A blocking Node.GetClientAllocs
 * returns `allocID → AllocModifyIndex` once something changed past the last index, then
 * Alloc.GetAllocs pulls only the allocations whose index moved. The next query starts from the new
 * index only after the pull and its handling succeeded, so a failed round is repeated rather than
 * skipped. A response whose index did not move is ignored, so an allocation that the servers
 * dropped is noticed at the next change on the node.
 */
export class AllocWatcher {
  readonly #options: AllocWatcherOptions;
  readonly #abort = new AbortController();
  /** AllocModifyIndex last pulled, by allocation ID. */
  readonly #pulled = new Map<string, number>();
  #loop: Promise<void> | null = null;
  #closed = false;

  constructor(options: AllocWatcherOptions) {
    this.#options = options;
  }

  start(): void {
    this.#loop ??= this.#watch();
  }

  /** Stops the watch and waits for the round in progress to end. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    await this.#loop;
  }

  async #watch(): Promise<void> {
    const { rpc, identity, logger } = this.#options;
    const maxQueryTimeMs = this.#options.maxQueryTimeMs ?? 60_000;
    let index = 0;
    let failures = 0;
    while (!this.#closed) {
      try {
        const response = await rpc.call<{ Allocs: Record<string, number>; Index: number }>(
          'Node.GetClientAllocs',
          {
            NodeID: identity.ID,
            SecretID: identity.SecretID,
            MinQueryIndex: index,
            MaxQueryTime: maxQueryTimeMs,
          },
          // The server adds up to 1/16 of jitter to the wait.
          { timeoutMs: maxQueryTimeMs * 1.1 + 5000, signal: this.#abort.signal },
        );
        if (response.Index <= index) {
          // A wait that timed out, perhaps on a server that lags behind the one that served the
          // last round: its list may lack allocations that this client runs, so it is skipped.
          failures = 0;
          continue;
        }
        const changed = Object.entries(response.Allocs).filter(
          ([id, modify]) => this.#pulled.get(id) !== modify,
        );
        const updated = changed.length === 0 ? [] : await this.#pull(changed);
        for (const id of this.#pulled.keys()) if (!(id in response.Allocs)) this.#pulled.delete(id);
        await this.#options.onChanges({ updated, present: new Set(Object.keys(response.Allocs)) });
        for (const alloc of updated) this.#pulled.set(alloc.ID, alloc.AllocModifyIndex);
        index = response.Index;
        if (failures > 0) logger.info({ failures }, 'allocation watch resumed');
        failures = 0;
      } catch (err) {
        if (this.#closed) return;
        if (err instanceof ClientRpcError && err.code === 'REMOTE' && err.status === 404) {
          await this.#options.onNodeNotFound();
          continue;
        }
        failures++;
        const level = failures === 1 ? 'warn' : 'debug';
        logger[level]({ err, failures }, 'allocation watch failed; will retry');
        await abortableSleep(
          redialDelayMs(failures, Math.random, 250, this.#options.retryCapMs ?? 5000),
          this.#abort.signal,
        );
      }
    }
  }

  /** Pulls the changed allocations, PULL_CHUNK at a time. */
  async #pull(changed: [string, number][]): Promise<ClientAllocation[]> {
    const allocs: ClientAllocation[] = [];
    for (let start = 0; start < changed.length; start += PULL_CHUNK) {
      allocs.push(...(await this.#pullChunk(changed.slice(start, start + PULL_CHUNK))));
    }
    return allocs;
  }

  /**
   * Pulls one chunk. A server error on a chunk of several allocations splits it in halves, because
   * the likely cause is a response above the frame limit (each allocation carries its job).
   */
  async #pullChunk(chunk: [string, number][]): Promise<ClientAllocation[]> {
    const { rpc, identity } = this.#options;
    // The server waits until its state has applied the newest change that the watch reported.
    const minIndex = Math.max(...chunk.map(([, modify]) => modify)) - 1;
    try {
      const response = await rpc.call<{ Allocs: ClientAllocation[] }>(
        'Alloc.GetAllocs',
        {
          NodeID: identity.ID,
          SecretID: identity.SecretID,
          AllocIDs: chunk.map(([id]) => id),
          MinQueryIndex: minIndex,
        },
        { signal: this.#abort.signal },
      );
      return response.Allocs;
    } catch (err) {
      const serverError = err instanceof ClientRpcError && err.code === 'REMOTE' && err.status === 500;
      if (!serverError || chunk.length < 2) throw err;
      const half = Math.ceil(chunk.length / 2);
      return [
        ...(await this.#pullChunk(chunk.slice(0, half))),
        ...(await this.#pullChunk(chunk.slice(half))),
      ];
    }
  }
}
