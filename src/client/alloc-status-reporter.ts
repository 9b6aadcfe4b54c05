import type { Logger } from 'pino';
import { redialDelayMs } from '../rpc/backoff.js';
import type { AllocClientStatus, TaskState } from '../structs/allocation.js';
import { ClientRpcError } from './client-rpc-error.js';
import type { NodeIdentity } from './node-identity.js';
import type { ClientRpc } from './rpc-client.js';

/** One allocation's status, as Alloc.UpdateAlloc takes it. */
export interface AllocUpdate {
  readonly ID: string;
  readonly ClientStatus: Exclude<AllocClientStatus, 'lost'>;
  readonly ClientDescription: string;
  readonly TaskStates: Readonly<Record<string, TaskState>>;
}

export interface AllocStatusReporterOptions {
  readonly rpc: ClientRpc;
  readonly identity: NodeIdentity;
  readonly logger: Logger;
  /** Time that updates gather before one Alloc.UpdateAlloc carries them all, in ms. Default 200, as Nomad's client. */
  readonly batchMs?: number;
  /** Maximum pause between retries of a failed send, in ms. Default 5000. */
  readonly retryCapMs?: number;
  /** Resolves when the node is registered; every send waits for it, since the servers reject a node they do not know. */
  readonly whenRegistered: () => Promise<void>;
  /** Called when the servers no longer know the node (404), so the agent registers it again. */
  readonly onNodeNotFound: () => void;
}

/**
 * Updates carried by one Alloc.UpdateAlloc. Each update carries its task states and their events,
 * so a bounded batch usually stays under the client frame limit (4 MiB). The rest go in the next
 * call.
 */
const MAX_UPDATES_PER_CALL = 256;

/**
 * Sends allocation status changes to the servers in batches. Only the newest update of each
 * allocation is kept: the servers need the current status, not the history (the task events carry
 * that). A batch that fails stays queued, behind any newer update of the same allocation, and is
 * retried with a growing pause until it is accepted or the reporter closes.
 */
export class AllocStatusReporter {
  readonly #options: AllocStatusReporterOptions;
  readonly #queued = new Map<string, AllocUpdate>();
  #timer: NodeJS.Timeout | null = null;
  #sending: Promise<void> | null = null;
  #failures = 0;
  #closed = false;

  constructor(options: AllocStatusReporterOptions) {
    this.#options = options;
  }

  /** Queues an update; it is sent within the batch interval, or after the retry pause while the servers fail. */
  report(update: AllocUpdate): void {
    if (this.#closed) return;
    this.#queued.set(update.ID, update);
    this.#schedule(this.#options.batchMs ?? 200);
  }

  /** Number of allocations whose newest status the servers have not accepted yet. */
  get pending(): number {
    return this.#queued.size;
  }

  /**
   * Sends what is queued now, waiting at most `timeoutMs`, then stops. Updates that could not be
   * sent are dropped here; the next start of the agent reports every allocation again.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const last = (async () => {
      await this.#sending;
      if (this.#queued.size > 0) await this.#send();
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([last, deadline]);
    clearTimeout(timer);
    this.#closed = true;
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== null || this.#sending !== null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#send();
    }, delayMs);
  }

  #send(): Promise<void> {
    this.#sending ??= this.#sendBatch().finally(() => {
      this.#sending = null;
      if (this.#closed || this.#queued.size === 0) return;
      const batchMs = this.#options.batchMs ?? 200;
      const retryCapMs = this.#options.retryCapMs ?? 5000;
      this.#schedule(
        this.#failures === 0
          ? batchMs
          : batchMs + redialDelayMs(this.#failures, Math.random, batchMs, retryCapMs),
      );
    });
    return this.#sending;
  }

  async #sendBatch(): Promise<void> {
    const batch = [...this.#queued.values()].slice(0, MAX_UPDATES_PER_CALL);
    for (const update of batch) this.#queued.delete(update.ID);
    const { rpc, identity, logger } = this.#options;
    try {
      await this.#options.whenRegistered();
      await rpc.call('Alloc.UpdateAlloc', {
        NodeID: identity.ID,
        SecretID: identity.SecretID,
        Allocs: batch,
      });
      this.#failures = 0;
      logger.debug({ allocs: batch.length }, 'reported allocation status');
    } catch (err) {
      if (this.#closed) return;
      const remote = err instanceof ClientRpcError && err.code === 'REMOTE';
      if (remote && err.status === 400) {
        // The servers would reject the same batch again, so a retry would hold back every later update.
        logger.error(
          { err, allocs: batch.map((update) => update.ID) },
          'the servers rejected an allocation status update; dropped it',
        );
        return;
      }
      // A newer update of the same allocation, queued meanwhile, wins over the one that failed.
      for (const update of batch) if (!this.#queued.has(update.ID)) this.#queued.set(update.ID, update);
      this.#failures++;
      if (remote && err.status === 404) this.#options.onNodeNotFound();
      // One warning per episode of failures; the retries after it log at debug.
      const level = this.#failures === 1 ? 'warn' : 'debug';
      logger[level](
        { err, allocs: batch.length, failures: this.#failures },
        'failed to report allocation status; will retry',
      );
    }
  }
}
