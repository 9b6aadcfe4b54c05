/**
 * Why a request over the server transport failed:
 * - TIMEOUT: no response within the caller's timeout (the remote side may still act on it);
 * - NOT_CONNECTED: no open authenticated connection to that server when the request was made;
 * - CLOSED: the connection closed, or the transport shut down, before the response arrived;
 * - REMOTE: the remote server's request handler rejected; the message is the remote one.
 */
export type TransportErrorCode = 'TIMEOUT' | 'NOT_CONNECTED' | 'CLOSED' | 'REMOTE';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  /** Node id of the server the request went to. */
  readonly peerId: number;

  constructor(code: TransportErrorCode, peerId: number, message: string) {
    super(message);
    this.code = code;
    this.peerId = peerId;
  }
}
