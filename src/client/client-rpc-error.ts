/**
 * Why a client RPC call failed:
 * - REMOTE: the server answered with an error; `status` and the message are the server's;
 * - UNAVAILABLE: no server answered within the hold time (each failure moved on to the next server);
 * - ABORTED: the caller's signal aborted the call;
 * - CLOSED: the ClientRpc was closed;
 * - INVALID: the request cannot be sent (for example, it encodes above the frame limit).
 */
export type ClientRpcErrorCode = 'REMOTE' | 'UNAVAILABLE' | 'ABORTED' | 'CLOSED' | 'INVALID';

export class ClientRpcError extends Error {
  override readonly name = 'ClientRpcError';
  readonly code: ClientRpcErrorCode;
  /** Nomad's HTTP-style status of a REMOTE error; 0 for the other codes. */
  readonly status: number;
  /** RPC address of the server that answered or failed last, or '' when none was tried. */
  readonly server: string;

  constructor(code: ClientRpcErrorCode, message: string, status = 0, server = '') {
    super(message);
    this.code = code;
    this.status = status;
    this.server = server;
  }
}

/**
 * Failure of one connection to one server: it could not be opened, it closed, the response did not
 * come in time, or the server broke the protocol. The call moves on to the next server.
 */
export class LinkFailure extends Error {
  override readonly name = 'LinkFailure';
  readonly server: string;

  constructor(server: string, message: string) {
    super(message);
    this.server = server;
  }
}
