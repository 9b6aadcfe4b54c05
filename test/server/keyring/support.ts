import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { keyEncryptionKey } from '../../../src/keyring/index.js';
import type { KeyringCommand } from '../../../src/server/keyring/keyring-leader.js';
import { newRootKeyCommand } from '../../../src/server/keyring/new-root-key.js';
import type { KeyringTimers } from '../../../src/server/keyring/timers.js';
import { encodeCommand } from '../../../src/state/commands.js';
import type { DemotedState } from '../../../src/state/root-keys.js';
import type { StateStore } from '../../../src/state/store.js';
import {
  applyOk,
  bootstrappedStore,
  entry,
  makeAlloc,
  makeEval,
  makeJob,
  makeNode,
  T0,
} from '../../state/workload-fixtures.js';

export { bootstrappedStore };

/** 2026-01-01T00:00:00Z in Unix milliseconds, the fixtures' T0. */
export const T0_MS = T0 / 1_000_000;
export const HOUR_MS = 3_600_000;

export function newKek(): Buffer {
  return keyEncryptionKey(randomBytes(32));
}

/** Applies a keyring command at the next index; throws with the state's message when it is rejected. */
export function applyKeyCommand(store: StateStore, command: KeyringCommand): number {
  const index = store.latestIndex + 1;
  const result = store.apply(index, encodeCommand(command));
  if (!result.ok) throw new Error(`${command.type} rejected at index ${index}: ${result.message}`);
  return index;
}

/** Creates a root key under `kek` in `store`, as the leader would, and returns its id. */
export function addKey(
  store: StateStore,
  kek: Buffer,
  nowMs = T0_MS,
  demoteTo: DemotedState = 'inactive',
): string {
  const { command, meta } = newRootKeyCommand(kek, nowMs, demoteTo);
  applyKeyCommand(store, command);
  return meta.KeyID;
}

/**
 * Places one allocation of job `web` per entry, signed with the given key and with the given
 * client status, as the plan applier and the clients would.
 */
export function placeSignedAllocs(
  store: StateStore,
  allocs: readonly { keyId: string; status: 'running' | 'complete' | 'failed' }[],
): void {
  if (store.node('node-1') === null) applyOk(store, entry('node-register', { node: makeNode() }));
  if (store.job('default', 'web') === null) {
    applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
  }
  const offset = store.allocations().length;
  const ids = allocs.map((_, i) => `alloc-${offset + i}`);
  const place = allocs.map((alloc, i) =>
    makeAlloc({
      ID: ids[i]!,
      SignedIdentities: { server: 'header.payload.signature' },
      SigningKeyID: alloc.keyId,
    }),
  );
  applyOk(store, entry('plan-apply', { place, stop: [], evals: [], time: T0 }));
  applyOk(
    store,
    entry('alloc-client-update', {
      updates: allocs.map((alloc, i) => ({
        ID: ids[i]!,
        ClientStatus: alloc.status,
        ClientDescription: '',
        TaskStates: {},
      })),
      evals: [],
      time: T0,
    }),
  );
}

/** Reports a client status for one allocation, as its client would. */
export function setClientStatus(
  store: StateStore,
  allocId: string,
  status: 'running' | 'complete' | 'failed',
): void {
  applyOk(
    store,
    entry('alloc-client-update', {
      updates: [{ ID: allocId, ClientStatus: status, ClientDescription: '', TaskStates: {} }],
      evals: [],
      time: T0,
    }),
  );
}

/** Returns a pino logger that keeps every line as a parsed object, and the raw text, for assertions. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[]; raw: string[] } {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, raw };
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** Real time allowed for a condition that a test waits on, in ms, before the test fails. */
const CONDITION_DEADLINE_MS = 5000;

/** Settles as `promise` does, or rejects once CONDITION_DEADLINE_MS of real time passed first. */
export function withDeadline<T>(promise: Promise<T>, condition: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`timed out after ${CONDITION_DEADLINE_MS} ms waiting until ${condition}`)),
      CONDITION_DEADLINE_MS,
    );
    promise.then(
      (value) => {
        clearTimeout(deadline);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        reject(err);
      },
    );
  });
}

/**
 * Timers that run only when a test fires them, so tests of deadlines and periodic work never
 * sleep. `whenPending` waits, with a real deadline, for the code under test to arm a timer.
 */
export class FakeTimers implements KeyringTimers {
  readonly #pending = new Map<number, { readonly callback: () => void; readonly ms: number }>();
  #nextHandle = 1;
  #onArmed: (() => void)[] = [];

  /** Number of timers armed since construction, fired and cleared ones included. */
  get armedTotal(): number {
    return this.#nextHandle - 1;
  }

  /** Number of timers armed and neither fired nor cleared. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Delays of the pending timers in ms, oldest first. */
  delays(): number[] {
    return Array.from(this.#pending.values(), (timer) => timer.ms);
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.#nextHandle++;
    this.#pending.set(handle, { callback, ms });
    const waiters = this.#onArmed;
    this.#onArmed = [];
    for (const wake of waiters) wake();
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** Runs the oldest pending timer. Throws when none is pending. */
  fireNext(): void {
    const next = this.#pending.entries().next();
    if (next.done === true) throw new Error('no timer is pending');
    const [handle, timer] = next.value;
    this.#pending.delete(handle);
    timer.callback();
  }

  /** Runs every timer pending now, oldest first, and returns how many ran. */
  fireAll(): number {
    let fired = 0;
    for (const [handle, timer] of [...this.#pending]) {
      if (!this.#pending.delete(handle)) continue;
      timer.callback();
      fired++;
    }
    return fired;
  }

  /** Resolves once a timer is pending, at once if one is. Rejects after CONDITION_DEADLINE_MS of real time. */
  whenPending(): Promise<void> {
    if (this.#pending.size > 0) return Promise.resolve();
    const armed = new Promise<void>((resolve) => this.#onArmed.push(resolve));
    return withDeadline(armed, 'a timer is armed');
  }
}
