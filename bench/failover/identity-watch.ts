import type { Logger } from 'pino';
import { ClientRpc } from '../../src/client/rpc-client.js';
import type { Allocation } from '../../src/structs/allocation.js';

/** A client node whose allocations the watch reads with the node's own credentials. */
export interface WatchedNode {
  readonly id: string;
  readonly secretId: string;
}

/** A server to read from: its name for the report and its RPC address. */
export interface WatchedServer {
  readonly name: string;
  readonly rpcAddr: string;
}

/** First allocation found that was signed by a leader which took office after the kill. */
export interface NewLeaderAllocation {
  /** performance.now() when the server's blocking query returned with the allocation. */
  readonly observedAtMs: number;
  readonly observedOn: string;
  readonly allocId: string;
  readonly jobId: string;
  /** Wall-clock time, in Unix ms, at which the leader's scheduler worker created the allocation. */
  readonly createdAtMs: number;
  readonly createIndex: number;
  readonly signingKeyId: string;
  readonly signedTasks: number;
}

/** Position of one server's watch on one node: the allocations already seen and the query index. */
interface Cursor {
  readonly server: WatchedServer;
  readonly node: WatchedNode;
  readonly rpc: ClientRpc;
  readonly seen: Set<string>;
  index: number;
}

interface ClientAllocs {
  readonly Allocs: Record<string, number>;
  readonly Index: number;
}

const MAX_QUERY_TIME_MS = 30_000;

/**
 * Watches, on each of `servers`, the allocations of each of `nodes` through the client RPC that
 * client agents use: Node.GetClientAllocs blocking queries, then Alloc.GetAllocs. The signed
 * identities travel only to the allocation's own node and never in an HTTP response, which is why
 * the watch reads them as the node does. Each blocking query wakes only when that node's
 * allocations change, so the watch costs the servers little while nothing happens.
 *
 * `open` records what every server already has. `firstSignedAfter(wallMs)` then returns the first
 * new allocation whose workload identities are signed and whose CreateTime is later than `wallMs`.
 * CreateTime is stamped by the scheduler worker on the leader before the plan goes to the plan
 * applier, which signs the identities; the caller passes the time at which the old leader's
 * process had already exited, so such an allocation was planned and signed by a later leader.
 */
export class IdentityWatch {
  readonly #cursors: Cursor[];
  readonly #rpcs: ClientRpc[];

  private constructor(cursors: Cursor[], rpcs: ClientRpc[]) {
    this.#cursors = cursors;
    this.#rpcs = rpcs;
  }

  /** Opens one client RPC connection per server and records each node's allocations there. */
  static async open(
    servers: readonly WatchedServer[],
    nodes: readonly WatchedNode[],
    logger: Logger,
  ): Promise<IdentityWatch> {
    const rpcs = servers.map((server) => new ClientRpc({ servers: [server.rpcAddr], logger }));
    const watch = new IdentityWatch([], rpcs);
    try {
      for (const [i, server] of servers.entries()) {
        for (const node of nodes) {
          // MinQueryIndex 1 returns at once: a registered node's index is at least its CreateIndex.
          const reply = await rpcs[i]!.call<ClientAllocs>('Node.GetClientAllocs', {
            NodeID: node.id,
            SecretID: node.secretId,
            MinQueryIndex: 1,
          });
          watch.#cursors.push({
            server,
            node,
            rpc: rpcs[i]!,
            seen: new Set(Object.keys(reply.Allocs)),
            index: reply.Index,
          });
        }
      }
    } catch (err) {
      watch.close();
      throw err;
    }
    return watch;
  }

  /**
   * Resolves with the first allocation, over every server and node, that is new since open(),
   * carries signed identities and was created after `wallMs` (Unix ms). Raises after `timeoutMs`.
   */
  async firstSignedAfter(wallMs: number, timeoutMs: number): Promise<NewLeaderAllocation> {
    const stop = new AbortController();
    const timer = setTimeout(
      () => stop.abort(new Error(`no allocation signed after the kill within ${timeoutMs} ms`)),
      timeoutMs,
    );
    try {
      return await Promise.any(this.#cursors.map((cursor) => this.#follow(cursor, wallMs, stop.signal)));
    } catch (err) {
      const reasons = err instanceof AggregateError ? err.errors : [err];
      const timedOut = stop.signal.reason instanceof Error ? stop.signal.reason.message : null;
      throw new Error(
        timedOut ?? `every allocation watch failed: ${reasons.map((r) => (r as Error).message).join('; ')}`,
      );
    } finally {
      clearTimeout(timer);
      stop.abort();
    }
  }

  close(): void {
    for (const rpc of this.#rpcs) rpc.close();
  }

  async #follow(cursor: Cursor, wallMs: number, signal: AbortSignal): Promise<NewLeaderAllocation> {
    const credentials = { NodeID: cursor.node.id, SecretID: cursor.node.secretId };
    for (;;) {
      const reply = await cursor.rpc.call<ClientAllocs>(
        'Node.GetClientAllocs',
        { ...credentials, MinQueryIndex: cursor.index, MaxQueryTime: MAX_QUERY_TIME_MS },
        { timeoutMs: MAX_QUERY_TIME_MS * 1.1 + 5_000, signal },
      );
      const observedAtMs = performance.now();
      cursor.index = reply.Index;
      const added = Object.keys(reply.Allocs).filter((id) => !cursor.seen.has(id));
      if (added.length === 0) continue;
      const { Allocs } = await cursor.rpc.call<{ Allocs: Allocation[] }>(
        'Alloc.GetAllocs',
        { ...credentials, AllocIDs: added, MinQueryIndex: reply.Index - 1 },
        { signal },
      );
      for (const id of added) cursor.seen.add(id);
      const signed = Allocs.filter(
        (alloc) =>
          alloc.CreateTime / 1e6 > wallMs &&
          alloc.SigningKeyID !== '' &&
          Object.keys(alloc.SignedIdentities).length > 0,
      ).sort((a, b) => a.CreateIndex - b.CreateIndex);
      const first = signed[0];
      if (first === undefined) continue;
      return {
        observedAtMs,
        observedOn: cursor.server.name,
        allocId: first.ID,
        jobId: first.JobID,
        createdAtMs: first.CreateTime / 1e6,
        createIndex: first.CreateIndex,
        signingKeyId: first.SigningKeyID,
        signedTasks: Object.keys(first.SignedIdentities).length,
      };
    }
  }
}
