import type { ApiReply } from '../api-request.js';

/** A 404 reply with Nomad's plain-text message, such as `job not found`. */
export function notFound(message: string): ApiReply {
  return { status: 404, body: { kind: 'text', value: message, contentType: 'text/plain; charset=utf-8' } };
}
