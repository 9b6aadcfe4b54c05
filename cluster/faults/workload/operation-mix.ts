import type { Prng } from '../../../test/sim/prng.js';
import type { CallResult, VariableCall } from './variable-call.js';

/**
 * Share of each kind of call. Check-and-set gets a large share because its outcome depends on the
 * order of writes, which is what a lost or reordered entry breaks.
 */
const MIX = { get: 0.35, put: 0.15, cas: 0.3, delete: 0.08, ledger: 0.12 } as const;

/**
 * Chooses each client's next call. Written values are unique in the whole run (`c<client>-<n>`),
 * so a read names the write it saw, which is what the checker needs to tell writes apart. A
 * check-and-set uses the ModifyIndex this client last saw on the key, so that many of them can
 * pass. With nothing seen, it uses 0 ("only if absent").
 */
export class OperationMix {
  readonly #random: Prng;
  readonly #client: number;
  readonly #registerKeys: readonly string[];
  readonly #ledgerPrefix: string;
  /** Last ModifyIndex this client saw per key; 0 after it saw the key absent. */
  readonly #lastIndex = new Map<string, number>();
  #sequence = 0;

  constructor(random: Prng, client: number, registerKeys: readonly string[], ledgerPrefix: string) {
    this.#random = random;
    this.#client = client;
    this.#registerKeys = registerKeys;
    this.#ledgerPrefix = ledgerPrefix;
  }

  next(): VariableCall {
    const value = `c${this.#client}-${this.#sequence++}`;
    const draw = this.#random.float();
    if (draw < MIX.ledger) return { kind: 'put', key: `${this.#ledgerPrefix}/${value}`, value };

    const key = this.#random.pick(this.#registerKeys);
    const known = this.#lastIndex.get(key) ?? 0;
    if (draw < MIX.ledger + MIX.get) return { kind: 'get', key };
    if (draw < MIX.ledger + MIX.get + MIX.put) return { kind: 'put', key, value };
    if (draw < MIX.ledger + MIX.get + MIX.put + MIX.cas) return { kind: 'cas', key, value, casIndex: known };
    return { kind: 'delete', key, casIndex: this.#random.chance(0.5) ? known : null };
  }

  /** Updates the ModifyIndex this client last saw on the key from a call that returned. */
  learn(key: string, { output, currentIndex }: CallResult): void {
    if (!this.#registerKeys.includes(key)) return;
    if (currentIndex !== undefined) this.#lastIndex.set(key, currentIndex);
    if (output === null) return;
    if ('value' in output) this.#lastIndex.set(key, output.index ?? 0);
    else if ('index' in output && output.index !== null) this.#lastIndex.set(key, output.index);
    else if ('succeeded' in output && output.succeeded && !('index' in output)) this.#lastIndex.set(key, 0);
  }
}
