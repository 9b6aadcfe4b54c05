import type { ClientRpc } from './rpc-client.js';
import { ClientRpcError } from './rpc-client.js';

/** A variable as `Variables.Read` returns it, in Nomad's JSON shape. Times are Unix nanoseconds. */
export interface ClientVariable {
  readonly Namespace: string;
  readonly Path: string;
  readonly CreateIndex: number;
  readonly CreateTime: number;
  readonly ModifyIndex: number;
  readonly ModifyTime: number;
  readonly Items: Readonly<Record<string, string>>;
}

/** A list entry of `Variables.List`: a variable without its items. */
export type ClientVariableMetadata = Omit<ClientVariable, 'Items'>;

/**
 * Reason code of a failed variable read:
 * - DENIED: the task's identity may not read the variable (the server's 403);
 * - UNAVAILABLE: no server responded, or one failed for another reason, which the message names.
 */
export type VariableReadErrorCode = 'DENIED' | 'UNAVAILABLE';

export class VariableReadError extends Error {
  override readonly name = 'VariableReadError';
  readonly code: VariableReadErrorCode;

  constructor(code: VariableReadErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** Options of a blocking call: it returns once the variables table index is above `minIndex`. */
export interface BlockingOptions {
  readonly minIndex: number;
  /** Maximum time the server waits, in ms. */
  readonly maxQueryTimeMs: number;
  readonly signal?: AbortSignal;
}

/** The variable reads of one task, made with its workload identity. */
export interface VariableReader {
  /** Returns the variable, or null when it does not exist. Throws VariableReadError. */
  read(namespace: string, path: string): Promise<ClientVariable | null>;
  /** Returns the variables under `prefix` that the identity may list, sorted by path. Throws VariableReadError. */
  list(namespace: string, prefix: string): Promise<ClientVariableMetadata[]>;
  /**
   * Waits until the variables table index is above `options.minIndex`, or the wait ends, and
   * returns the index then. Throws VariableReadError, or ClientRpcError ABORTED when the signal fires
   * and CLOSED once the client RPC is closed.
   */
  waitForChange(namespace: string, prefix: string, options: BlockingOptions): Promise<number>;
}

/** Node credentials that authenticate every client RPC call. */
export interface NodeCredentials {
  readonly ID: string;
  readonly SecretID: string;
}

/** Time a blocking call may take beyond its MaxQueryTime before the client gives up on the server, in ms. */
const BLOCKING_MARGIN_MS = 10_000;

/**
 * Reads variables through the client RPC (`Variables.Read` and `Variables.List`) with a task's
 * workload identity as `AuthToken`, next to the node's own credentials. The token is a secret,
 * so it never reaches a message here.
 */
export class RpcVariableReader implements VariableReader {
  readonly #rpc: Pick<ClientRpc, 'call'>;
  readonly #node: NodeCredentials;
  readonly #token: string;

  constructor(rpc: Pick<ClientRpc, 'call'>, node: NodeCredentials, token: string) {
    this.#rpc = rpc;
    this.#node = node;
    this.#token = token;
  }

  async read(namespace: string, path: string): Promise<ClientVariable | null> {
    try {
      const reply = await this.#rpc.call<{ Data: ClientVariable }>(
        'Variables.Read',
        this.#body({ Namespace: namespace, Path: path }),
      );
      return reply.Data;
    } catch (err) {
      if (err instanceof ClientRpcError && err.code === 'REMOTE' && err.status === 404) return null;
      throw readError(err, `read variable ${JSON.stringify(path)} in namespace ${namespace}`);
    }
  }

  async list(namespace: string, prefix: string): Promise<ClientVariableMetadata[]> {
    try {
      const reply = await this.#rpc.call<{ Data: ClientVariableMetadata[] }>(
        'Variables.List',
        this.#body({ Namespace: namespace, Prefix: prefix }),
      );
      return reply.Data;
    } catch (err) {
      throw readError(err, `list variables under ${JSON.stringify(prefix)} in namespace ${namespace}`);
    }
  }

  async waitForChange(namespace: string, prefix: string, options: BlockingOptions): Promise<number> {
    try {
      const reply = await this.#rpc.call<{ Index: number }>(
        'Variables.List',
        this.#body({
          Namespace: namespace,
          Prefix: prefix,
          MinQueryIndex: options.minIndex,
          MaxQueryTime: options.maxQueryTimeMs,
        }),
        {
          timeoutMs: options.maxQueryTimeMs + BLOCKING_MARGIN_MS,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
      );
      return reply.Index;
    } catch (err) {
      // The watch ends on these: its task stopped, or the agent is shutting down.
      if (err instanceof ClientRpcError && (err.code === 'ABORTED' || err.code === 'CLOSED')) throw err;
      throw readError(err, 'watch variables for changes');
    }
  }

  #body(fields: Record<string, unknown>): Record<string, unknown> {
    return { NodeID: this.#node.ID, SecretID: this.#node.SecretID, AuthToken: this.#token, ...fields };
  }
}

function readError(err: unknown, what: string): VariableReadError {
  if (err instanceof ClientRpcError && err.code === 'REMOTE' && err.status === 403) {
    return new VariableReadError('DENIED', `permission denied to ${what}`);
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new VariableReadError('UNAVAILABLE', `cannot ${what}: ${reason}`);
}
