import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AclCommand } from '../../state/acl-commands.js';
import { ACL_POLICY_NAME_PATTERN } from '../../state/acl-fields.js';
import type { AclToken, StateStore } from '../../state/store.js';
import { RequestError } from '../request-error.js';
import { type AclPolicyRequest, checkedAclPolicy } from './acl-policy-request.js';
import {
  type AclTokenRequest,
  DEFAULT_TOKEN_EXPIRATION_LIMITS,
  newAclToken,
  type TokenExpirationLimits,
  updatedAclToken,
} from './acl-token-request.js';
import { readBootstrapResetIndex } from './bootstrap-reset.js';

const NS_PER_MS = 1_000_000;

/** Canonical UUID text in either case, as Nomad accepts a chosen bootstrap secret. */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Message of Nomad's 400 reply from every ACL endpoint while `acl.enabled` is false. */
export const ACL_DISABLED_MESSAGE = 'ACL support disabled';

export interface AclOperationsDeps {
  readonly state: StateStore;
  /** `acl.enabled` of the agent configuration. */
  readonly enabled: boolean;
  /** Commits a command through the leader and applies it here; throws RequestError with the rejection's status. */
  readonly apply: (command: AclCommand) => Promise<{ index: number }>;
  /** Resolves once this server has applied everything committed before the call (ReadIndex). */
  readonly consistentRead: () => Promise<void>;
  /** The reset file (`<data_dir>/server/acl-bootstrap-reset`), or null for a server without one. */
  readonly bootstrapResetFile: string | null;
  /** Wall clock in Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
  /** Bounds on a new token's lifetime; Nomad's defaults, 1 minute and 24 hours, when absent. */
  readonly tokenExpiration?: TokenExpirationLimits;
}

/**
 * The writer of ACL tokens and policies on one server. It chooses IDs, secrets and times, checks
 * requests (policies parse in strict mode) and commits the ACL commands through the leader. Logs
 * name tokens by AccessorID only: a SecretID never reaches a log line or an error message.
 */
export class AclOperations {
  readonly #deps: AclOperationsDeps;

  constructor(deps: AclOperationsDeps) {
    this.#deps = deps;
  }

  get enabled(): boolean {
    return this.#deps.enabled;
  }

  /**
   * Creates the bootstrap management token, with `bootstrapSecret` as its SecretID when given.
   * The reset index comes from the reset file of this server. Throws RequestError 400 when ACLs
   * are disabled, for a secret that is not a UUID, and with Nomad's messages once bootstrapped.
   */
  async bootstrap(bootstrapSecret: string | null): Promise<AclToken> {
    this.#checkEnabled();
    if (bootstrapSecret !== null && !UUID.test(bootstrapSecret)) {
      // The value is a credential, so the message gives only its length.
      throw new RequestError(
        400,
        `invalid acl token: BootstrapSecret must be a UUID, got a ${bootstrapSecret.length}-character string`,
      );
    }
    const resetIndex = await readBootstrapResetIndex(this.#deps.bootstrapResetFile);
    const token: AclToken = {
      AccessorID: randomUUID(),
      SecretID: bootstrapSecret ?? randomUUID(),
      Name: 'Bootstrap Token',
      Type: 'management',
      Policies: [],
      Global: true,
      CreateTime: this.#deps.now() * NS_PER_MS,
      ExpirationTime: null,
      CreateIndex: 0,
      ModifyIndex: 0,
    };
    const { index } = await this.#deps.apply({ type: 'acl-bootstrap', v: 1, token, resetIndex });
    this.#deps.logger.info({ accessorId: token.AccessorID, index, resetIndex }, 'bootstrapped ACLs');
    return this.#stored(token, index);
  }

  /** Creates a token with a random AccessorID and SecretID. */
  async createToken(request: AclTokenRequest): Promise<AclToken> {
    this.#checkEnabled();
    const token = newAclToken(
      request,
      this.#deps.now(),
      this.#deps.tokenExpiration ?? DEFAULT_TOKEN_EXPIRATION_LIMITS,
    );
    const { index } = await this.#deps.apply({ type: 'acl-token-upsert', v: 1, tokens: [token] });
    this.#deps.logger.info({ accessorId: token.AccessorID, type: token.Type, index }, 'created an ACL token');
    return this.#stored(token, index);
  }

  /** Updates the name, type and policies of a token. Throws RequestError 404 `ACL token not found`. */
  async updateToken(accessorId: string, request: AclTokenRequest): Promise<AclToken> {
    this.#checkEnabled();
    // The immutable fields are copied from the stored token, so read the newest copy of it.
    await this.#deps.consistentRead();
    const existing = this.#deps.state.aclToken(accessorId);
    if (existing === null) throw new RequestError(404, 'ACL token not found');
    const token = updatedAclToken(existing, request);
    const { index } = await this.#deps.apply({ type: 'acl-token-upsert', v: 1, tokens: [token] });
    this.#deps.logger.info({ accessorId, type: token.Type, index }, 'updated an ACL token');
    return this.#stored(token, index);
  }

  /** Deletes a token. The state rejects an unknown AccessorID with 404. */
  async deleteToken(accessorId: string): Promise<{ Index: number }> {
    this.#checkEnabled();
    if (!UUID.test(accessorId)) throw new RequestError(404, 'ACL token not found');
    const { index } = await this.#deps.apply({ type: 'acl-token-delete', v: 1, accessorIds: [accessorId] });
    this.#deps.logger.info({ accessorId, index }, 'deleted an ACL token');
    return { Index: index };
  }

  /** Creates or replaces a policy after checking its rules in strict mode and its JobACL. */
  async upsertPolicy(request: AclPolicyRequest): Promise<{ Index: number }> {
    this.#checkEnabled();
    const policy = await checkedAclPolicy(request);
    const { index } = await this.#deps.apply({ type: 'acl-policy-upsert', v: 1, policies: [policy] });
    this.#deps.logger.info({ policy: policy.Name, index }, 'wrote an ACL policy');
    return { Index: index };
  }

  /** Deletes a policy. The state rejects an unknown name with 404. */
  async deletePolicy(name: string): Promise<{ Index: number }> {
    this.#checkEnabled();
    if (!ACL_POLICY_NAME_PATTERN.test(name)) throw new RequestError(404, 'ACL policy not found');
    const { index } = await this.#deps.apply({ type: 'acl-policy-delete', v: 1, names: [name] });
    this.#deps.logger.info({ policy: name, index }, 'deleted an ACL policy');
    return { Index: index };
  }

  #checkEnabled(): void {
    if (!this.#deps.enabled) throw new RequestError(400, ACL_DISABLED_MESSAGE);
  }

  /** Returns the token as stored by the entry at `index`, with the indexes apply gave it. */
  #stored(token: AclToken, index: number): AclToken {
    const row = this.#deps.state.aclToken(token.AccessorID);
    if (row !== null && row.ModifyIndex === index) return row;
    return { ...token, CreateIndex: token.CreateIndex === 0 ? index : token.CreateIndex, ModifyIndex: index };
  }
}
