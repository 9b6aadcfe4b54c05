/** Codes of failures of the policy parser worker thread, as opposed to failures of the rules text. */
export type PolicyParserErrorCode =
  /** The worker exited or threw before it could take requests: its module failed to load. */
  | 'WORKER_START_FAILED'
  /** The worker exited or threw an uncaught error while it parsed this request. */
  | 'WORKER_CRASHED'
  /** The parse ran past the timeout; the worker was terminated and is replaced for the next request. */
  | 'TIMED_OUT'
  /** The parser was closed before the worker replied to the request. */
  | 'CLOSED'
  /** The parser threw something other than a PolicyError, which is a bug in the parser. */
  | 'INTERNAL';

/**
 * A policy that could not be parsed because of the parser thread, not because of its text. The
 * same text may parse on a retry, so callers must not cache this error as the policy's result.
 */
export class PolicyParserError extends Error {
  override readonly name = 'PolicyParserError';
  readonly code: PolicyParserErrorCode;

  constructor(code: PolicyParserErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
