import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { signAllocations } from '../../identity/sign-allocations.js';
import type { RaftDriver } from '../../raft/driver.js';
import { EvalBroker, PlanQueue } from '../../scheduler/index.js';
import { encodeCommand } from '../../state/commands.js';
import type { ApplyResult, StateStore } from '../../state/store.js';
import type { TableName } from '../../state/tables.js';
import type { WorkloadCommand } from '../../state/workload-commands.js';
import type { Allocation } from '../../structs/allocation.js';
import type { Evaluation } from '../../structs/evaluation.js';
import type { ServerKeyring } from '../keyring/server-keyring.js';
import { nowNanos } from './evaluations.js';
import { type PlanResult, runPlanApplier } from './plan-applier.js';
import { runWorker } from './scheduler-worker.js';

/** Scheduler workers on the leader; two keep one planning while the other waits for its commit. */
const DEFAULT_WORKERS = 2;
/** How often the broker's timers (nack timeouts, delayed redelivery) advance, in milliseconds. */
const BROKER_TICK_MS = 250;
/** Blocked evaluations are retried at most this often, in milliseconds, while capacity changes. */
const UNBLOCK_INTERVAL_MS = 1000;
/** Evaluations per unblocking entry, far below the entry size limit (about 360 bytes each). */
const UNBLOCK_BATCH = 500;

export interface LeaderSchedulingDeps {
  readonly state: StateStore;
  readonly driver: RaftDriver;
  readonly logger: Logger;
  /** Index of the last applied entry that freed capacity; blocked evaluations wait for it to move. */
  readonly capacityFreedIndex: () => number;
  /** Signs the workload identities of new allocations with the active root key. */
  readonly keyring: ServerKeyring;
  /** Region of this server, the first part of each identity's `sub` claim. */
  readonly region: string;
  /** `server.oidc_issuer`, the `iss` claim of each identity; null leaves it out. */
  readonly oidcIssuer: string | null;
  readonly workers?: number;
}

/**
 * Everything that runs only on the leader to turn evaluations into allocations: the evaluation
 * broker, the scheduler workers, the plan queue and the plan applier. `start` runs when this
 * server takes office and `stop` when it loses it; a new term gets a new instance.
 *
 * On start it first waits until it has applied everything committed before it took office (a
 * ReadIndex round, which completes once the new term's first entry commits), so that it restores
 * the pending evaluations from complete state: none is lost, and the broker never holds an
 * evaluation twice (it ignores one it already contains, and an evaluation leaves the broker only
 * after its outcome is committed and applied here).
 */
export class LeaderScheduling {
  readonly #deps: LeaderSchedulingDeps;
  readonly #abort = new AbortController();
  // The broker's timers run on the monotonic clock: a wall clock stepped back would freeze them.
  readonly #broker = new EvalBroker({ newToken: randomUUID, now: performance.now() });
  readonly #queue = new PlanQueue<PlanResult>();
  #tick: NodeJS.Timeout | null = null;
  #tasks: Promise<unknown>[] = [];
  /** Term these services act for; proposals in any other term are refused. */
  #term = 0;

  constructor(deps: LeaderSchedulingDeps) {
    this.#deps = deps;
  }

  /** Starts the services once the state is complete; resolves when they run or when stopped first. */
  async start(): Promise<void> {
    const { driver, logger } = this.#deps;
    try {
      await driver.readIndex();
    } catch (err) {
      logger.info({ err }, 'leader services not started: leadership was lost before the state was complete');
      return;
    }
    if (this.#abort.signal.aborted) return;
    // The plan applier signs with the active root key, so nothing is planned before the keyring
    // leader's first key has committed (at once when a key exists already).
    if (!(await this.#activeKeyApplied(this.#abort.signal))) return;
    this.#term = driver.status().term;
    if (driver.status().role !== 'leader') return;
    this.#broker.setEnabled(true);
    this.#queue.setEnabled(true);
    const signal = this.#abort.signal;
    const commit = (command: WorkloadCommand, encoded?: Uint8Array) => this.#commit(command, encoded);
    const now = nowNanos;
    this.#tasks.push(
      runPlanApplier(
        {
          state: this.#deps.state,
          queue: this.#queue,
          commit,
          sign: (allocs) => this.#sign(allocs),
          now,
          logger,
        },
        signal,
      ),
      this.#watchEvaluations(signal),
    );
    for (let i = 0; i < (this.#deps.workers ?? DEFAULT_WORKERS); i++) {
      this.#tasks.push(
        runWorker(
          {
            state: this.#deps.state,
            broker: this.#broker,
            queue: this.#queue,
            commit,
            waitForApplied: (index) => driver.waitForApplied(index),
            newId: randomUUID,
            now,
            logger,
          },
          signal,
        ),
      );
    }
    this.#tick = setInterval(() => this.#onTick(), BROKER_TICK_MS);
    logger.info(
      { stats: this.#broker.stats() },
      'leader services started: eval broker, workers, plan applier',
    );
  }

  /** Stops every leader service; queued plans and undelivered evaluations are dropped (state keeps them). */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#broker.setEnabled(false);
    this.#queue.setEnabled(false);
    await Promise.allSettled(this.#tasks);
  }

  /** Broker statistics, for metrics and tests. */
  stats(): ReturnType<EvalBroker['stats']> {
    return this.#broker.stats();
  }

  /** Resolves true once this server has applied an active root key, or false when stopped first. */
  async #activeKeyApplied(signal: AbortSignal): Promise<boolean> {
    const { state, logger } = this.#deps;
    if (state.activeRootKey() === null) logger.info("leader services wait for the keyring's first root key");
    while (state.activeRootKey() === null) {
      if (signal.aborted) return false;
      await state.waitForChange('rootKeys', state.tableIndex('rootKeys'), signal);
    }
    return !signal.aborted;
  }

  /** Signs new allocations' identities with the active key; fails the plan when no key can sign. */
  #sign(allocs: readonly Allocation[]): Promise<Allocation[]> {
    const active = this.#deps.keyring.active();
    if (active === null) {
      return Promise.reject(
        new Error(
          'cannot sign workload identities: no usable active root key (see the keyring errors in this log)',
        ),
      );
    }
    return signAllocations(allocs, {
      job: (namespace, jobId) => this.#deps.state.job(namespace, jobId),
      key: active.key,
      region: this.#deps.region,
      issuer: this.#deps.oidcIssuer,
      now: Date.now(),
    });
  }

  /**
   * Proposes `command` and resolves with its index once it is applied here. `encoded`, when given,
   * is `encodeCommand(command)`, which the caller computed already.
   */
  async #commit(command: WorkloadCommand, encoded?: Uint8Array): Promise<number> {
    // Services of an earlier term must never write, even when this server leads again: their
    // plans were checked against in-flight state that the new term's services do not know about.
    if (this.#abort.signal.aborted) {
      throw new Error(`${command.type} rejected: the leader services of term ${this.#term} stopped`);
    }
    const { index, result } = await this.#deps.driver.propose(encoded ?? encodeCommand(command), this.#term);
    const outcome = result as ApplyResult;
    if (!outcome.ok) throw new Error(`${command.type} rejected at index ${index}: ${outcome.message}`);
    return index;
  }

  #onTick(): void {
    this.#broker.tick(performance.now());
    const failed = this.#broker.takeFailed();
    if (failed.length === 0) return;

    const now = nowNanos();
    const evals: Evaluation[] = failed.map((evaluation) => ({
      ...evaluation,
      Status: 'failed',
      StatusDescription: 'evaluation reached its delivery limit',
      ModifyTime: now,
    }));
    this.#commit({ type: 'eval-upsert', v: 1, evals }).then(
      () => {
        this.#broker.recordedFailed(failed.map((evaluation) => evaluation.ID));
      },
      (err: unknown) => {
        // They stay pending in state and out of this broker; the next leader restores them.
        this.#deps.logger.warn({ err }, 'could not record failed evaluations');
      },
    );
  }

  /**
   * Feeds the broker from state: every pending evaluation goes in, and the broker ignores one it
   * already contains. Blocked evaluations go back to pending at most once a second, and only after
   * an entry freed capacity.
   */
  async #watchEvaluations(signal: AbortSignal): Promise<void> {
    const { state, logger } = this.#deps;
    let evalsSeen = -1;
    const seen = { nodes: state.tableIndex('nodes'), allocs: state.tableIndex('allocs') };
    let freedSeen = this.#deps.capacityFreedIndex();
    let capacityChanged = false;
    let lastUnblock = 0;
    while (!signal.aborted) {
      if (state.tableIndex('evals') !== evalsSeen) {
        evalsSeen = state.tableIndex('evals');
        // TODO: index evaluations by status; this scans every evaluation on each change.
        for (const evaluation of state.evaluations()) {
          if (evaluation.Status === 'pending') this.#broker.enqueue(evaluation);
        }
      }
      seen.nodes = state.tableIndex('nodes');
      seen.allocs = state.tableIndex('allocs');
      // Only an entry that freed capacity (an allocation stopped or finished, a node registered or
      // became ready) makes blocked evaluations worth another try. Placements and reports do not.
      if (this.#deps.capacityFreedIndex() !== freedSeen) {
        freedSeen = this.#deps.capacityFreedIndex();
        capacityChanged = true;
      }
      if (capacityChanged && performance.now() - lastUnblock >= UNBLOCK_INTERVAL_MS) {
        capacityChanged = false;
        lastUnblock = performance.now();
        const blocked = state.evaluations().filter((evaluation) => evaluation.Status === 'blocked');
        if (blocked.length > 0) {
          const now = nowNanos();
          for (let start = 0; start < blocked.length; start += UNBLOCK_BATCH) {
            const evals = blocked
              .slice(start, start + UNBLOCK_BATCH)
              .map((evaluation) => ({ ...evaluation, Status: 'pending' as const, ModifyTime: now }));
            await this.#commit({ type: 'eval-upsert', v: 1, evals }).catch((err: unknown) => {
              capacityChanged = true;
              logger.debug({ err }, 'could not unblock evaluations; will retry');
            });
          }
          continue;
        }
      }
      // Waits for the next change of any of the three tables, or a second, whichever comes first.
      // A capacity change inside the unblock interval is remembered and acted on after it.
      await this.#waitForAny(['evals', 'nodes', 'allocs'], { evals: evalsSeen, ...seen }, signal);
    }
  }

  /** Resolves when one of the tables changes past its index, after a second at most, or on abort. */
  async #waitForAny(
    tables: readonly TableName[],
    seen: Readonly<Record<string, number>>,
    signal: AbortSignal,
  ): Promise<void> {
    const round = new AbortController();
    const onAbort = () => round.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(onAbort, UNBLOCK_INTERVAL_MS);
    try {
      await Promise.race(
        tables.map((table) => this.#deps.state.waitForChange(table, seen[table] ?? 0, round.signal)),
      );
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      round.abort();
    }
  }
}
