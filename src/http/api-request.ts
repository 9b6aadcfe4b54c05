import type { IncomingHttpHeaders } from 'node:http';
import type { ResolvedAcl } from '../server/acl/acl-resolver.js';
import type { Principal, ServerBackend } from '../server/backend.js';

/** One API request as handlers see it; the server builds it after routing. */
export interface ApiRequest {
  readonly method: string;
  /** Path without the query string, as received (percent-encoded). */
  readonly path: string;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly backend: ServerBackend;
  /**
   * Principal of the request's token. Null for a request without a token, on routes that do not
   * authenticate, and on the ACL bootstrap when its token failed.
   */
  readonly principal: Principal | null;
  /**
   * The ACL the request runs under, resolved once from `principal` before the handler runs.
   * Handlers check it with `authorize`. On routes that do not authenticate it denies everything.
   */
  readonly acl: ResolvedAcl;
  /**
   * True when the server waited for `backend.consistentRead()` after the request arrived, before
   * resolving its ACL. The state then includes every write committed before the request, so a
   * read needs no second round.
   */
  readonly consistent: boolean;
  /** Aborts when the client disconnects before the response is written. */
  readonly signal: AbortSignal;
  /** Reads the whole body, size-limited, and parses it as JSON. Throws `RequestError` (400 or 413). */
  readJson(): Promise<unknown>;
}

export type ApiReplyBody =
  | { readonly kind: 'json'; readonly value: unknown }
  | { readonly kind: 'text'; readonly value: string; readonly contentType: string }
  | { readonly kind: 'binary'; readonly chunks: readonly Uint8Array[]; readonly contentType: string }
  | { readonly kind: 'empty' };

export interface ApiReply {
  /** HTTP status, 200 when absent. */
  readonly status?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: ApiReplyBody;
}

/** A route's handler. It throws `RequestError` for a refusal with Nomad's status and message. */
export type ApiHandler = (request: ApiRequest) => Promise<ApiReply>;

export function jsonReply(value: unknown, headers?: Record<string, string>, status?: number): ApiReply {
  return { body: { kind: 'json', value }, ...(headers ? { headers } : {}), ...(status ? { status } : {}) };
}

/** Reply of a write, which Nomad sends with an empty body and the Raft index of the change. */
export function writeReply(index: number): ApiReply {
  return { body: { kind: 'empty' }, headers: { 'X-Nomad-Index': String(index) } };
}

/**
 * Builds a reply of raw bytes, such as a snapshot archive. Chunks are sent in order, one after the
 * other, so a large body need not be copied into one buffer first.
 */
export function binaryReply(value: Uint8Array | readonly Uint8Array[], contentType: string): ApiReply {
  const chunks = value instanceof Uint8Array ? [value] : value;
  return { body: { kind: 'binary', chunks, contentType } };
}

export function emptyReply(): ApiReply {
  return { body: { kind: 'empty' } };
}
