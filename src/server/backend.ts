import type { IdentityClaims } from '../identity/claims.js';
import type { JsonWebKeySet, RootKeyMeta } from '../keyring/index.js';
import type { Membership } from '../raft/types.js';
import type { Command } from '../state/commands.js';
import type { StateStore } from '../state/store.js';
import type { Allocation } from '../structs/allocation.js';
import type { Job } from '../structs/job.js';
import type { AclOperations } from './acl/acl-operations.js';
import type { ResolvedAcl } from './acl/acl-resolver.js';
import type { ServerMetrics } from './metrics.js';
import type { VariableOperations } from './variables/variable-operations.js';

/** One server of the Raft configuration, in Nomad's JSON shape. */
export interface RaftServer {
  readonly ID: string;
  readonly Node: string;
  readonly Address: string;
  readonly Leader: boolean;
  readonly Voter: boolean;
  readonly RaftProtocol: string;
}

/** Raft facts that a snapshot archive records beside the state. */
export interface SnapshotContext {
  /** This server's current term. */
  readonly term: number;
  /**
   * The membership in force at the requested index: the last configuration entry at or below it,
   * as Raft records it with a snapshot taken there.
   */
  readonly membership: Membership;
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

/** Result of `registerJob`, with the names of Nomad's JobRegisterResponse. */
export interface JobRegisterResult {
  readonly EvalID: string;
  /** Raft index of the entry that created the evaluation (the job's entry). */
  readonly EvalCreateIndex: number;
  readonly JobModifyIndex: number;
  readonly Index: number;
}

/** Result of `deregisterJob`; the evaluation is committed in the same Raft entry as the change. */
export interface JobDeregisterResult {
  readonly EvalID: string;
  readonly Index: number;
}

/** Result of `rotateRootKey`, with the names of Nomad's KeyringRotateRootKeyResponse. */
export interface RootKeyRotateResult {
  readonly Key: RootKeyMeta;
  readonly Index: number;
}

/**
 * Sender of a request whose token checked out. A UUID token is an ACL token, resolved in the ACL
 * layer. Any other token was verified as a workload identity.
 */
export type Principal =
  | { readonly kind: 'acl-token'; readonly secretId: string }
  | { readonly kind: 'workload'; readonly claims: IdentityClaims; readonly alloc: Allocation };

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
  /**
   * Resolves once this server has applied everything committed when the call was made, for a
   * request that commits an entry next. On a leader that has committed in its term it makes no
   * heartbeat round, because an entry it proposes in that term after losing office cannot commit,
   * and resolves with that term. Elsewhere it is a ReadIndex round and resolves with null. A write
   * handler that can reply without committing must make a `consistentRead` first.
   */
  writeBarrier(): Promise<number | null>;
  /**
   * Runs a write handler so that every command it applies is proposed by this server in `term`
   * (from `writeBarrier`), never forwarded: a command that would need another leader fails with
   * 500 and is not applied. With null, commands go to whichever server leads.
   */
  withWriteTerm<T>(term: number | null, run: () => Promise<T>): Promise<T>;
  /** Commits a command through the leader (forwarded when this server follows) and applies it here. */
  apply(command: Command): Promise<{ index: number }>;
  /**
   * Commits a canonical, validated job (namespace checked by the caller) with a new pending
   * evaluation triggered by `job-register`, in one Raft entry. The implementation chooses the
   * evaluation's ID and the submit and create times, because apply must stay deterministic.
   */
  registerJob(job: Job): Promise<JobRegisterResult>;
  /**
   * Stops a job, or deletes it when `purge` is set, with a new pending evaluation triggered by
   * `job-deregister`, in one Raft entry. Throws RequestError 404 `job not found` when no such job
   * exists.
   */
  deregisterJob(namespace: string, jobId: string, purge: boolean): Promise<JobDeregisterResult>;
  /** Root keys in this server's state, oldest first; metadata only, never key material. */
  rootKeys(): RootKeyMeta[];
  /**
   * Makes a new active root key; the old one keeps verifying. With `full`, the old key is marked
   * `rekeying` until the data it encrypted is re-encrypted under the new key.
   */
  rotateRootKey(full: boolean): Promise<RootKeyRotateResult>;
  /**
   * Removes a root key. Throws RequestError 404 for an unknown id, 400 for the active key, and
   * 400 for a key that still signs identities of running allocations unless `force`.
   */
  removeRootKey(keyId: string, force: boolean): Promise<{ Index: number }>;
  /** Public keys of every root key that still verifies, for `/.well-known/jwks.json`. */
  publicKeySet(): Promise<JsonWebKeySet>;
  /** `server.oidc_issuer`, or null when OIDC discovery is off. */
  oidcIssuer(): string | null;
  /**
   * Checks a request's token: an ACL token (a UUID) or a workload identity verified against this
   * server's state. Throws RequestError 403 `Permission denied` for any token that fails, and
   * logs the reason.
   */
  authenticate(token: string): Promise<Principal>;
  /**
   * Resolves the ACL of an authenticated request (principal null for one without a token) from
   * this server's own state. Throws RequestError 403 `ACL token not found` or `ACL token expired`.
   */
  resolveAcl(principal: Principal | null): Promise<ResolvedAcl>;
  /** ACL bootstrap, tokens and policies; while `acl.enabled` is false, every ACL endpoint replies 400. */
  readonly acl: AclOperations;
  /** Variable reads (decrypted with the row's key) and check-and-set writes. */
  readonly variables: VariableOperations;
  leaderContact(): LeaderContact;
  /** RPC address of the leader, or '' when none is known. */
  leaderAddress(): string;
  /** RPC addresses of the voters. */
  peers(): string[];
  raftConfiguration(): { Index: number; Servers: RaftServer[] };
  /**
   * Term, and membership at `appliedIndex`, for a snapshot archive of the state at that index.
   * Read it in the same turn as `state.snapshot()`.
   */
  snapshotContext(appliedIndex: number): SnapshotContext;
  removePeer(id: string): Promise<void>;
  /** Moves leadership to server `id`, or to the most up-to-date voter when `id` is null. */
  transferLeadership(id: string | null): Promise<void>;
  members(): AgentMember[];
  /** Agent configuration and Raft statistics for `GET /v1/agent/self` (no secrets). */
  self(): Record<string, unknown>;
  health(): { ok: boolean; message: string };
}
