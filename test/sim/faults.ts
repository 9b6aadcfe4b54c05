import type { NetworkWeather, SimNetwork } from './network.js';
import { drawPartition, PARTITION_KINDS, type Partition } from './partitions.js';
import type { Prng } from './prng.js';
import { CRASH_POINTS, type CrashPoint, type SimServer } from './server.js';

/** What the fault injector needs from the simulation. */
export interface FaultWorld {
  readonly network: SimNetwork;
  runningServers(): SimServer[];
  /** Servers that are down after a crash and may be restarted. */
  crashedServers(): SimServer[];
  leader(): SimServer | null;
  restart(server: SimServer): void;
  trace(text: string): void;
}

export interface FaultStats {
  partitions: number;
  crashes: number;
  weatherChanges: number;
}

const DROP_RATES = [0, 0, 0.02, 0.1, 0.3];
const DUPLICATE_RATES = [0, 0.02, 0.1];
const DELAY_RATES = [0, 0.02, 0.1, 0.3];

/**
 * Injects faults during the fault phase: partitions of three shapes, crashes (now, or armed at a
 * point of the driver loop such as between persisting and sending), restarts, and changes of the
 * message loss, duplication and delay rates.
 */
export class FaultInjector {
  readonly #rng: Prng;
  readonly #world: FaultWorld;
  #partition: Partition | null = null;
  readonly stats: FaultStats = { partitions: 0, crashes: 0, weatherChanges: 0 };

  constructor(rng: Prng, world: FaultWorld) {
    this.#rng = rng;
    this.#world = world;
  }

  /** Performs one fault action, drawn at random. */
  act(): void {
    const roll = this.#rng.float();
    if (roll < 0.35) this.#togglePartition();
    else if (roll < 0.6) this.#crash();
    else if (roll < 0.75) this.#restart();
    else this.#changeWeather();
  }

  /** Counts a crash that landed. Returns how many ticks the server stays down, or null for "until the faults end". */
  crashed(): number | null {
    this.stats.crashes++;
    if (this.#rng.chance(0.2)) return null;
    // Quick restarts matter: a server back within an election timeout may be asked again for its vote in the same term.
    return this.#rng.chance(0.4) ? this.#rng.between(1, 3) : this.#rng.between(4, 40);
  }

  /** Ends every fault: heals the network, calms the weather and restarts crashed servers. */
  healAll(): void {
    this.#world.network.heal();
    this.#world.network.weather = { dropRate: 0, duplicateRate: 0, delayRate: 0 };
    this.#partition = null;
    for (const server of this.#world.runningServers()) server.pendingCrash = null;
    for (const server of this.#world.crashedServers()) this.#world.restart(server);
    this.#world.trace('faults end: network healed, crashed servers restarted');
  }

  #togglePartition(): void {
    const network = this.#world.network;
    if (this.#partition !== null) {
      network.heal();
      this.#world.trace(`partition healed: ${this.#partition.description}`);
      this.#partition = null;
      return;
    }
    const ids = this.#world.runningServers().map((server) => server.id);
    const leader = this.#world.leader()?.id ?? 0;
    const partition = drawPartition(this.#rng.pick(PARTITION_KINDS), ids, leader, this.#rng);
    if (partition === null) return;
    network.setBlockedLinks(partition.links);
    this.#partition = partition;
    this.stats.partitions++;
    this.#world.trace(`partition: ${partition.description}`);
  }

  #crash(): void {
    const running = this.#world.runningServers();
    if (running.length === 0) return;
    // Keep a majority up most of the time, so that the cluster makes progress between faults.
    const down = this.#world.crashedServers().length;
    const total = running.length + down;
    if (2 * (down + 1) >= total && this.#rng.chance(0.7)) return;
    const leader = this.#world.leader();
    const target = leader !== null && this.#rng.chance(0.4) ? leader : this.#rng.pick(running);
    const point = this.#rng.pick<CrashPoint | 'now'>(['now', ...CRASH_POINTS]);
    if (point === 'now') {
      target.crash('now');
    } else {
      target.pendingCrash = point;
      this.#world.trace(`crash of ${target.id} armed at ${point}`);
    }
  }

  #restart(): void {
    const crashed = this.#world.crashedServers();
    if (crashed.length > 0) this.#world.restart(this.#rng.pick(crashed));
  }

  #changeWeather(): void {
    const weather: NetworkWeather = {
      dropRate: this.#rng.pick(DROP_RATES),
      duplicateRate: this.#rng.pick(DUPLICATE_RATES),
      delayRate: this.#rng.pick(DELAY_RATES),
    };
    this.#world.network.weather = weather;
    this.stats.weatherChanges++;
    this.#world.trace(
      `weather: drop ${weather.dropRate}, duplicate ${weather.duplicateRate}, delay ${weather.delayRate}`,
    );
  }
}
