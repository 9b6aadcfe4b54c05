/** Websocket path of client agents' connections on a server's RPC port. */
export const CLIENT_RPC_PATH = '/v1/rpc/client';

/**
 * Maximum client frame size, in bytes, in either direction. A node registration with a thousand
 * attributes, or an update of a few hundred allocations with their task events, fits with room to
 * spare. It is below the server frame limit because anyone who reaches the port may open a client
 * connection: no cluster key guards it.
 */
export const DEFAULT_CLIENT_MAX_FRAME_BYTES = 4 * 1024 * 1024;

/** Maximum length of a method name, in characters (`Node.GetClientAllocs` has 20). */
export const MAX_METHOD_CHARS = 64;

/** An error that a server returns for one client request, with Nomad's HTTP-style status. */
export interface ClientRpcFailure {
  readonly status: number;
  readonly message: string;
}

export interface ClientRequestFrame {
  readonly kind: 'request';
  /** Chosen by the client; pairs the response with its request on the same connection. */
  readonly id: number;
  /** Nomad's RPC name, such as `Node.Register`. */
  readonly method: string;
  readonly body: Readonly<Record<string, unknown>>;
}

export type ClientResponseFrame =
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly body: unknown }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly error: ClientRpcFailure };

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function isRequestId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** Checks a decoded frame as a client request. Returns the request, or why it is malformed. */
export function parseClientRequest(
  frame: { readonly kind: string } & Record<string, unknown>,
): ClientRequestFrame | string {
  if (frame.kind !== 'request') {
    return `expected a request frame, got kind ${JSON.stringify(frame.kind.slice(0, 40))}`;
  }
  if (!isRequestId(frame.id)) return 'malformed request: id is not a positive integer';
  if (typeof frame.method !== 'string' || frame.method === '' || frame.method.length > MAX_METHOD_CHARS) {
    return `malformed request: method is not a string of 1 to ${MAX_METHOD_CHARS} characters`;
  }
  if (!isMap(frame.body)) return 'malformed request: body is not a map';
  return { kind: 'request', id: frame.id, method: frame.method, body: frame.body };
}

/** Checks a decoded frame as a response to a client request. Returns the response, or why it is malformed. */
export function parseClientResponse(
  frame: { readonly kind: string } & Record<string, unknown>,
): ClientResponseFrame | string {
  if (frame.kind !== 'response') {
    return `expected a response frame, got kind ${JSON.stringify(frame.kind.slice(0, 40))}`;
  }
  if (!isRequestId(frame.id)) return 'malformed response: id is not a positive integer';
  if (frame.ok === true) return { kind: 'response', id: frame.id, ok: true, body: frame.body };
  if (frame.ok !== false) return 'malformed response: ok is not a boolean';
  const error = frame.error;
  if (!isMap(error) || typeof error.status !== 'number' || typeof error.message !== 'string') {
    return 'malformed response: error is not a map with a numeric status and a string message';
  }
  return {
    kind: 'response',
    id: frame.id,
    ok: false,
    error: { status: error.status, message: error.message },
  };
}
