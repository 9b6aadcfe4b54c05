import { parsePolicy } from './parse-policy.js';
import type { ParseRequest, ParseResponse } from './parse-thread-protocol.js';
import { PolicyError } from './policy-error.js';

/**
 * Parses one request with the synchronous parser and returns the outcome as a response message.
 * Every error is caught and becomes a 'rejected' or 'failed' response.
 */
export function handleParseRequest(request: ParseRequest): ParseResponse {
  try {
    return { kind: 'parsed', id: request.id, policy: parsePolicy(request.rules, request.mode) };
  } catch (err) {
    if (err instanceof PolicyError) {
      const { code, field, value, message } = err;
      return { kind: 'rejected', id: request.id, code, field, value, message };
    }
    return { kind: 'failed', id: request.id, message: err instanceof Error ? err.message : String(err) };
  }
}
