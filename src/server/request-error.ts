/**
 * A request that the server refuses or cannot complete. `status` follows Nomad's HTTP status
 * codes (400 bad input, 403 denied, 404 missing, 409 conflict, 500 no leader or internal), so the
 * HTTP layer writes it as is, with `message` as the plain-text body.
 */
export class RequestError extends Error {
  override readonly name = 'RequestError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
