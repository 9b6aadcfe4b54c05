import type { Logger } from 'pino';
import { DEFAULT_NAMESPACE, NAMESPACE_NAME_PATTERN } from '../state/namespaces.js';
import type { StateStore } from '../state/store.js';
import { variablePathProblem } from '../state/var-path.js';
import type { Node } from '../structs/node.js';
import type { ResolvedAcl } from './acl/acl-resolver.js';
import type { ServerBackend } from './backend.js';
import { RequestError } from './request-error.js';
import type { VariableDecrypted, VariableMetadata } from './variables/variable-shapes.js';

const PERMISSION_DENIED = 'Permission denied';
/** Maximum length of a list prefix, because no variable path is longer than 128 characters. */
const MAX_PREFIX_CHARS = 128;

/** The server services that the variable methods use: the same ones the HTTP API uses. */
export type ClientVariablesBackend = Pick<ServerBackend, 'authenticate' | 'resolveAcl' | 'variables'>;

export interface ClientVariablesDeps {
  readonly state: StateStore;
  readonly backend: ClientVariablesBackend;
  /** Resolves once this server has applied everything committed when the call was made. */
  consistentRead(): Promise<void>;
  readonly logger: Logger;
}

/** Reply of `Variables.Read`. `Index` is the variables table index the reply reflects. */
export interface ClientVariableRead {
  readonly Data: VariableDecrypted;
  readonly Index: number;
}

/** Reply of `Variables.List`: the variables the identity may list, without their items. */
export interface ClientVariableList {
  readonly Data: VariableMetadata[];
  readonly Index: number;
}

type Body = Readonly<Record<string, unknown>>;

/**
 * The blocking part of a request: `minIndex` is its MinQueryIndex (0 for none), and `wait` resolves
 * once the variables table index is above it, or its MaxQueryTime or connection ends.
 */
export interface VariablesQuery {
  readonly minIndex: number;
  wait(): Promise<void>;
}

/**
 * The variable reads that client agents make for templates, `Variables.Read` and `Variables.List`,
 * with the task's workload identity in `AuthToken`. The node is authenticated by the caller
 * (ClientEndpoints) with its SecretID. Here the identity is verified and its ACL resolved from this
 * server's own state. Each variable is checked as the HTTP API checks it: `read` for a read, and
 * `list` for each variable of a list, so no path that the identity may not list is returned.
 *
 * Every denial is 403 `Permission denied`, decided before the variable is looked up, so that a
 * denied caller cannot learn whether a path exists. Neither the token nor an item ever reaches a
 * log line or an error message.
 */
export class ClientVariables {
  readonly #deps: ClientVariablesDeps;

  constructor(deps: ClientVariablesDeps) {
    this.#deps = deps;
  }

  /**
   * Reads one variable with its items. Throws RequestError 403 when the identity may not read it
   * and 404 `variable not found` when it does not exist. A miss on a non-blocking read is checked
   * again after a consistent read, because this server may lag the one that took the write.
   */
  async read(body: Body, node: Node, query: VariablesQuery): Promise<ClientVariableRead> {
    const namespace = readNamespace(body.Namespace);
    const path = readPath(body.Path);
    const { acl, workload } = await this.#resolve(body.AuthToken, node);
    if (!acl.allowVariableOperation(namespace, path, 'read', workload)) {
      throw new RequestError(403, PERMISSION_DENIED);
    }

    await query.wait();
    const { state } = this.#deps;
    let row = state.variable(namespace, path);
    if (row === null && query.minIndex === 0) {
      await this.#deps.consistentRead();
      row = state.variable(namespace, path);
    }
    if (row === null) throw new RequestError(404, 'variable not found');
    const variable = await this.#deps.backend.variables.decrypt(row);
    return { Data: variable, Index: state.tableIndex('variables') };
  }

  /** Lists the variables under `Prefix` in one namespace that the identity may list, one check per variable. */
  async list(body: Body, node: Node, query: VariablesQuery): Promise<ClientVariableList> {
    const namespace = readNamespace(body.Namespace);
    const prefix = readPrefix(body.Prefix);
    const { acl, workload } = await this.#resolve(body.AuthToken, node);

    await query.wait();
    const visible = this.#deps.backend.variables
      .list(namespace, prefix)
      .filter((meta) => acl.allowVariableOperation(meta.Namespace, meta.Path, 'list', workload));
    return { Data: visible, Index: this.#deps.state.tableIndex('variables') };
  }

  /**
   * Verifies `token` as a workload identity of an allocation placed on `node` and resolves its ACL.
   * An ACL token is rejected: templates read with the task's own identity only. The allocation's
   * node is checked so that a node can use the tokens it was given and no others.
   */
  async #resolve(token: unknown, node: Node): Promise<ResolvedAcl> {
    if (typeof token !== 'string' || token === '') {
      throw new RequestError(
        400,
        'missing AuthToken: the task has no workload identity to read variables with',
      );
    }
    const { backend, logger } = this.#deps;
    const principal = await backend.authenticate(token);
    if (principal.kind !== 'workload') {
      logger.warn(
        { nodeId: node.ID },
        'rejected a variable read: AuthToken is an ACL token, not a workload identity',
      );
      throw new RequestError(403, PERMISSION_DENIED);
    }
    if (principal.alloc.NodeID !== node.ID) {
      logger.warn(
        { nodeId: node.ID, allocId: principal.alloc.ID, allocNodeId: principal.alloc.NodeID },
        'rejected a variable read: the workload identity belongs to an allocation of another node',
      );
      throw new RequestError(403, PERMISSION_DENIED);
    }
    return backend.resolveAcl(principal);
  }
}

function readNamespace(value: unknown): string {
  if (value === undefined || value === '') return DEFAULT_NAMESPACE;
  if (typeof value !== 'string' || !NAMESPACE_NAME_PATTERN.test(value)) {
    throw new RequestError(
      400,
      `invalid Namespace ${JSON.stringify(String(value).slice(0, 160))}: expected 1 to 128 letters, digits or "-"`,
    );
  }
  return value;
}

function readPath(value: unknown): string {
  if (typeof value !== 'string') throw new RequestError(400, 'invalid Path: must be a string');
  const problem = variablePathProblem(value);
  if (problem !== null) throw new RequestError(400, `Invalid variable path: the path ${problem}`);
  return value;
}

function readPrefix(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || value.length > MAX_PREFIX_CHARS) {
    throw new RequestError(400, `invalid Prefix: must be a string of at most ${MAX_PREFIX_CHARS} characters`);
  }
  return value;
}
