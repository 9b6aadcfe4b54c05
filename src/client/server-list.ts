import { checkAddress } from '../rpc/transport.js';

/** Maximum number of servers a client keeps. Addresses learned beyond it are ignored. */
const MAX_SERVERS = 64;

/**
 * A client's servers in the order it tries them, kept as Nomad's client server manager keeps them.
 * The list is shuffled at the start, so clients spread over the servers. Every call goes to the
 * head, and a server that failed moves to the back.
 */
export class ServerList {
  readonly #servers: string[];
  readonly #random: () => number;

  /** Throws when `servers` is empty or an address is not host:port. */
  constructor(servers: readonly string[], random: () => number = Math.random) {
    if (servers.length === 0) throw new Error('a client needs at least one server address (host:port)');
    for (const address of servers) checkAddress(address);
    this.#random = random;
    this.#servers = shuffle([...new Set(servers)], random).slice(0, MAX_SERVERS);
  }

  /** Returns the server that calls go to. */
  head(): string {
    return this.#servers[0]!;
  }

  all(): string[] {
    return [...this.#servers];
  }

  /**
   * Moves `address` to the back when it is still the head. Calls that failed on the same server at
   * the same time therefore rotate the list once, not once each.
   */
  notifyFailed(address: string): void {
    if (this.#servers[0] !== address || this.#servers.length < 2) return;
    this.#servers.push(this.#servers.shift()!);
  }

  /** Adds servers that a response named and that are not in the list yet, in random order, at the back. */
  learn(addresses: unknown): void {
    if (!Array.isArray(addresses)) return;
    const known = new Set(this.#servers);
    const fresh: string[] = [];
    for (const address of addresses) {
      if (typeof address !== 'string' || known.has(address)) continue;
      try {
        checkAddress(address);
      } catch {
        continue;
      }
      known.add(address);
      fresh.push(address);
    }
    for (const address of shuffle(fresh, this.#random)) {
      if (this.#servers.length >= MAX_SERVERS) break;
      this.#servers.push(address);
    }
  }
}

/** Fisher-Yates shuffle in place; returns `items`. */
function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
