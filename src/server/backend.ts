import type { IdentityClaims } from '../identity/claims.js';
import type { JsonWebKeySet, RootKeyMeta } from '../keyring/index.js';
import type { Command } from '../state/commands.js';
import type { AclToken, StateStore, VariableEncrypted } from '../state/store.js';
import type { Allocation } from '../structs/allocation.js';
import type { Job } from '../structs/job.js';
import type { AclPolicyRequest } from './acl/acl-policy-request.js';
import type { ResolvedAcl } from './acl/acl-resolver.js';
import type { AclTokenRequest } from './acl/acl-token-request.js';
import type { ServerMetrics } from './metrics.js';
import type {
  VariableChange,
  VariableChangeResult,
  VariableDecrypted,
  VariableMetadata,
  VariableWrite,
} from './variables/variable-shapes.js';

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
 * Who made a request, once its token checked out. A UUID token is an ACL token (resolved in the
 * ACL layer); any other token was verified as a workload identity.
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
  /** Returns `acl.enabled`. While it is false, every ACL endpoint replies 400 `ACL support disabled`. */
  aclEnabled(): boolean;
  /**
   * Creates the initial management token, with `bootstrapSecret` as its SecretID when given. The
   * reset index is read from `<data_dir>/server/acl-bootstrap-reset` on this server. Throws
   * RequestError 400 when ACLs are disabled or with Nomad's messages once bootstrapped.
   */
  bootstrapAcl(bootstrapSecret: string | null): Promise<AclToken>;
  /** Creates a token with a random AccessorID and SecretID. Throws RequestError 400 for an invalid request. */
  createAclToken(request: AclTokenRequest): Promise<AclToken>;
  /** Changes a token's name, type and policies; other fields are fixed at creation. Throws 404 for an unknown token. */
  updateAclToken(accessorId: string, request: AclTokenRequest): Promise<AclToken>;
  /** Deletes a token. Throws RequestError 404 for an unknown token. */
  deleteAclToken(accessorId: string): Promise<{ Index: number }>;
  /** Creates or replaces a policy; its rules must parse in strict mode. Throws RequestError 400 naming the problem. */
  upsertAclPolicy(request: AclPolicyRequest): Promise<{ Index: number }>;
  /** Deletes a policy. Throws RequestError 404 for an unknown name. */
  deleteAclPolicy(name: string): Promise<{ Index: number }>;
  /** Metadata of the variables of `namespace` (every one for `*`) whose path starts with `prefix`. */
  listVariables(namespace: string, prefix: string): VariableMetadata[];
  /** Decrypts a variable of this server's state, waiting up to 1 s for its root key. Throws RequestError 500 when it cannot. */
  decryptVariable(row: VariableEncrypted): Promise<VariableDecrypted>;
  /**
   * Encrypts and writes a variable (check-and-set with `casIndex`), or returns the current one
   * without a write when its items are unchanged. A lost check-and-set returns the current
   * variable, with its items only when `revealConflict`.
   */
  writeVariable(request: VariableWrite, revealConflict: boolean): Promise<VariableChangeResult>;
  /** Deletes a variable (check-and-set with `casIndex`), with conflicts returned as `writeVariable` does. */
  deleteVariable(request: VariableChange, revealConflict: boolean): Promise<VariableChangeResult>;
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
