import type { NodeId } from '../raft/types.js';

/** Address book entry of one server: its id, name and addresses. */
export interface PeerInfo {
  readonly id: NodeId;
  readonly name: string;
  /** `host:port` of the server RPC listener. */
  readonly rpcAddr: string;
  /** `host:port` of the HTTP API. */
  readonly httpAddr: string;
}

/** Information that a server sends to every server it connects to, right after the handshake. */
export interface Introduction extends PeerInfo {
  /** True while the server has never been part of a cluster (no term, no log). */
  readonly pristine: boolean;
  readonly bootstrapExpect: number;
  /** Servers known to the sender, so that a join list naming one server is enough to find them all. */
  readonly peers: readonly PeerInfo[];
}

const MAX_PEERS_IN_INTRODUCTION = 256;

/**
 * Checks an introduction received from an authenticated peer. Peers know the cluster key, but a
 * bug or a version mismatch on their side must not break this server, so every field is checked.
 */
export function parseIntroduction(
  value: unknown,
  checkAddress: (address: string) => void,
): Introduction | string {
  if (typeof value !== 'object' || value === null) return 'introduction is not an object';
  const record = value as Record<string, unknown>;
  const info = parsePeerInfo(record, checkAddress);
  if (typeof info === 'string') return info;
  if (typeof record.pristine !== 'boolean') return 'introduction field pristine is not a boolean';
  const expect = record.bootstrapExpect;
  if (typeof expect !== 'number' || !Number.isSafeInteger(expect) || expect < 0) {
    return 'introduction field bootstrapExpect is not an integer >= 0';
  }
  if (!Array.isArray(record.peers) || record.peers.length > MAX_PEERS_IN_INTRODUCTION) {
    return `introduction field peers is not a list of at most ${MAX_PEERS_IN_INTRODUCTION} servers`;
  }
  const peers: PeerInfo[] = [];
  for (const peer of record.peers) {
    const parsed = parsePeerInfo(peer, checkAddress);
    if (typeof parsed === 'string') return `introduction peer: ${parsed}`;
    peers.push(parsed);
  }
  return { ...info, pristine: record.pristine, bootstrapExpect: expect, peers };
}

function parsePeerInfo(value: unknown, checkAddress: (address: string) => void): PeerInfo | string {
  if (typeof value !== 'object' || value === null) return 'server entry is not an object';
  const { id, name, rpcAddr, httpAddr } = value as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
    return 'field id is not a positive integer';
  for (const [field, text] of [
    ['name', name],
    ['rpcAddr', rpcAddr],
    ['httpAddr', httpAddr],
  ] as const) {
    if (typeof text !== 'string' || text.length === 0 || text.length > 256) {
      return `field ${field} is not a string of 1 to 256 characters`;
    }
    if (field !== 'name') {
      try {
        checkAddress(text);
      } catch (err) {
        return `field ${field}: ${(err as Error).message}`;
      }
    }
  }
  return { id, name: name as string, rpcAddr: rpcAddr as string, httpAddr: httpAddr as string };
}

interface Known {
  intro: Introduction;
  /** Milliseconds (monotonic) when this server last introduced itself to us. */
  seenAt: number;
}

/**
 * The servers this server has heard from, by id. Before a cluster exists it is the only record.
 * Afterwards the replicated servers table is the durable record, and this directory supplies
 * fresher addresses and the live set for the leader's reconciliation.
 */
export class PeerDirectory {
  readonly #known = new Map<NodeId, Known>();

  /** Records an introduction; returns the addresses of servers it mentions that we did not know. */
  learn(intro: Introduction, now: number): string[] {
    this.#known.set(intro.id, { intro, seenAt: now });
    const addresses = new Set<string>();
    for (const peer of intro.peers) {
      if (!this.#known.has(peer.id)) addresses.add(peer.rpcAddr);
    }
    return [...addresses];
  }

  get(id: NodeId): Introduction | undefined {
    return this.#known.get(id)?.intro;
  }

  all(): Introduction[] {
    return [...this.#known.values()].map((known) => known.intro);
  }
}

/**
 * Decides whether this pristine server founds the cluster now, and with which voters. A cluster is
 * founded once at least `bootstrapExpect` pristine servers that expect the same number know each
 * other, and only by the one with the lowest id among them: it writes the founding membership and
 * campaigns, and the others learn that entry from it as their leader. With a single writer, two
 * founders can never write different founding entries at the same index and term, even when they
 * saw different sets of servers. A server that knows a member of an existing cluster never
 * founds one; it waits for the leader to add it.
 */
export function foundingVoters(self: Introduction, known: readonly Introduction[]): NodeId[] | null {
  if (!self.pristine || self.bootstrapExpect === 0) return null;
  const others = known.filter((intro) => intro.id !== self.id);
  if (others.some((intro) => !intro.pristine)) return null;
  const founders = [self, ...others.filter((intro) => intro.bootstrapExpect === self.bootstrapExpect)];
  if (founders.length < self.bootstrapExpect) return null;
  const ids = founders.map((intro) => intro.id).sort((a, b) => a - b);
  return ids[0] === self.id ? ids : null;
}
