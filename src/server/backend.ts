import type { Command } from '../state/commands.js';
import type { StateStore } from '../state/store.js';
import type { ServerMetrics } from './metrics.js';

/** One server of the Raft configuration, in Nomad's JSON shape. */
export interface RaftServer {
  readonly ID: string;
  readonly Node: string;
  readonly Address: string;
  readonly Leader: boolean;
  readonly Voter: boolean;
  readonly RaftProtocol: string;
}

/** One server as `server members` lists it (Nomad's serf member shape). */
export interface AgentMember {
  readonly Name: string;
  readonly Addr: string;
  readonly Port: number;
  readonly Status: 'alive' | 'failed' | 'left';
  readonly Tags: Readonly<Record<string, string>>;
}

/** Leadership facts that the HTTP layer reports with every read. */
export interface LeaderContact {
  readonly knownLeader: boolean;
  /** Milliseconds since this server last heard from the leader; 0 on the leader. */
  readonly lastContactMs: number;
}

/**
 * Interface of the server to the HTTP API. The agent implements it; handlers never reach into Raft.
 * Methods that fail throw `RequestError`.
 */
export interface ServerBackend {
  readonly nodeName: string;
  /** This server's copy of the replicated state; reads on it are stale unless `consistentRead` ran first. */
  readonly state: StateStore;
  readonly metrics: ServerMetrics;
  /** Resolves once this server has applied everything committed when the call was made (ReadIndex). */
  consistentRead(): Promise<void>;
  /** Commits a command through the leader (forwarded when this server follows) and applies it here. */
  apply(command: Command): Promise<{ index: number }>;
  leaderContact(): LeaderContact;
  /** RPC address of the leader, or '' when none is known. */
  leaderAddress(): string;
  /** RPC addresses of the voters. */
  peers(): string[];
  raftConfiguration(): { Index: number; Servers: RaftServer[] };
  removePeer(id: string): Promise<void>;
  /** Moves leadership to server `id`, or to the most up-to-date voter when `id` is null. */
  transferLeadership(id: string | null): Promise<void>;
  members(): AgentMember[];
  /** Agent configuration and Raft statistics for `GET /v1/agent/self` (no secrets). */
  self(): Record<string, unknown>;
  health(): { ok: boolean; message: string };
}
