import { hashState, type RegisterState, sameState } from './register-model.js';

interface Configuration {
  readonly required: Uint32Array;
  readonly optional: Uint32Array;
  readonly state: RegisterState;
}

const TWO_TO_32 = 0x1_0000_0000;

/**
 * The configurations that the linearization search has visited: the set of operations taken so
 * far, as a bitset of required and one of optional operations, with the model state they led to.
 *
 * A configuration counts as visited when one with the same required set and state, and a subset
 * of its optional set, was visited: the search from that one had every choice this one has.
 * Configurations are found by a hash of the required set (XOR of a fixed random word per
 * operation, updated on each take) and of the state, and compared in full on a hash match.
 */
export class ConfigurationCache {
  /** Per operation: its bit in the required or the optional set. */
  readonly #slot: Int32Array;
  readonly #isRequired: Uint8Array;
  readonly #required: Uint32Array;
  readonly #optional: Uint32Array;
  #hashLow = 0;
  #hashHigh = 0;
  readonly #buckets = new Map<number, Configuration[]>();

  constructor(required: readonly boolean[]) {
    this.#slot = new Int32Array(required.length);
    this.#isRequired = new Uint8Array(required.length);
    let requiredCount = 0;
    let optionalCount = 0;
    required.forEach((isRequired, operation) => {
      this.#isRequired[operation] = isRequired ? 1 : 0;
      this.#slot[operation] = isRequired ? requiredCount++ : optionalCount++;
    });
    this.#required = new Uint32Array(Math.ceil(requiredCount / 32));
    this.#optional = new Uint32Array(Math.ceil(optionalCount / 32));
  }

  take(operation: number): void {
    this.#toggle(operation);
  }

  untake(operation: number): void {
    this.#toggle(operation);
  }

  /** Records the current set with `state`. Returns false when an equal or smaller configuration was already visited. */
  visit(state: RegisterState): boolean {
    const key =
      ((this.#hashLow ^ hashState(state)) >>> 0) + ((this.#hashHigh ^ state.value) & 0x1f_ffff) * TWO_TO_32;
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      for (const configuration of bucket) {
        if (this.#covers(configuration, state)) return false;
      }
    }
    const configuration = { required: this.#required.slice(), optional: this.#optional.slice(), state };
    if (bucket === undefined) this.#buckets.set(key, [configuration]);
    else bucket.push(configuration);
    return true;
  }

  #covers(configuration: Configuration, state: RegisterState): boolean {
    if (!sameState(configuration.state, state)) return false;
    const required = this.#required;
    for (let i = 0; i < required.length; i++) {
      if (configuration.required[i] !== required[i]) return false;
    }
    const optional = this.#optional;
    for (let i = 0; i < optional.length; i++) {
      if ((configuration.optional[i]! & ~optional[i]!) !== 0) return false;
    }
    return true;
  }

  #toggle(operation: number): void {
    const slot = this.#slot[operation]!;
    const bit = 1 << (slot & 31);
    if (this.#isRequired[operation] === 1) {
      this.#required[slot >>> 5] ^= bit;
      this.#hashLow ^= mix32(2 * slot + 1);
      this.#hashHigh ^= mix32(2 * slot + 2);
    } else {
      this.#optional[slot >>> 5] ^= bit;
    }
  }
}

/** Mixes a 32-bit value bijectively (the MurmurHash3 finalizer), giving each operation a random-looking word. */
function mix32(value: number): number {
  let z = Math.imul(value ^ (value >>> 16), 0x85eb_ca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2_ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
