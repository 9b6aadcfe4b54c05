import type { Message } from '../../src/raft/messages.js';
import type { NodeId } from '../../src/raft/types.js';
import type { Prng } from './prng.js';

/** Message faults in force at one time. Each is a probability per message. */
export interface NetworkWeather {
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Chance that a message takes an extra delay, which reorders it behind later ones. */
  readonly delayRate: number;
}

export const CALM: NetworkWeather = { dropRate: 0, duplicateRate: 0, delayRate: 0 };

export interface NetworkTiming {
  /** Latency of every message, drawn uniformly in [minLatency, maxLatency] time units. */
  readonly minLatency: number;
  readonly maxLatency: number;
  /** Upper bound of the extra delay of a delayed message, in time units. */
  readonly maxDelay: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  delayed: number;
}

/** Schedules the delivery of `message` at logical time `time`. */
export type DeliverySchedule = (time: number, message: Message) => void;

/**
 * The simulated network: latency, loss, duplication and reordering drawn from the seeded PRNG,
 * plus a set of blocked one-way links that models partitions. A blocked link drops messages both
 * when they are sent and when they would arrive.
 */
export class SimNetwork {
  readonly #rng: Prng;
  readonly #timing: NetworkTiming;
  readonly #schedule: DeliverySchedule;
  readonly #blocked = new Set<number>();
  weather: NetworkWeather = CALM;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, delayed: 0 };

  constructor(rng: Prng, timing: NetworkTiming, schedule: DeliverySchedule) {
    this.#rng = rng;
    this.#timing = timing;
    this.#schedule = schedule;
  }

  get partitioned(): boolean {
    return this.#blocked.size > 0;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.#blocked.has(linkKey(from, to));
  }

  /** Replaces the blocked links with `links` (one-way: `[from, to]`). */
  setBlockedLinks(links: Iterable<readonly [NodeId, NodeId]>): void {
    this.#blocked.clear();
    for (const [from, to] of links) this.#blocked.add(linkKey(from, to));
  }

  heal(): void {
    this.#blocked.clear();
  }

  send(message: Message, now: number): void {
    this.stats.sent++;
    if (this.isBlocked(message.from, message.to) || this.#rng.chance(this.weather.dropRate)) {
      this.stats.dropped++;
      return;
    }
    // Messages are values on the wire: freezing them makes a core that mutates a sent message fail loudly.
    Object.freeze(message);
    if (message.type === 'append-request') Object.freeze(message.entries);
    this.#schedule(now + this.#latency(), message);
    if (this.#rng.chance(this.weather.duplicateRate)) {
      this.stats.duplicated++;
      this.#schedule(now + this.#latency(), message);
    }
  }

  /** Counts a message that reached its destination's address but was lost there (partition or server down). */
  countDropped(): void {
    this.stats.dropped++;
  }

  countDelivered(): void {
    this.stats.delivered++;
  }

  #latency(): number {
    const { minLatency, maxLatency, maxDelay } = this.#timing;
    let latency = this.#rng.between(minLatency, maxLatency);
    if (this.#rng.chance(this.weather.delayRate)) {
      this.stats.delayed++;
      latency += this.#rng.between(1, maxDelay);
    }
    return latency;
  }
}

function linkKey(from: NodeId, to: NodeId): number {
  return from * 0x1_0000 + to;
}
