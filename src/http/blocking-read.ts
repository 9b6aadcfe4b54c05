import { randomInt } from 'node:crypto';
import type { StateStore } from '../state/store.js';
import type { ApiReply, ApiRequest } from './api-request.js';
import { BLOCKING_JITTER_FRACTION, parseReadOptions } from './read-options.js';

export type StateTable = Parameters<StateStore['tableIndex']>[0];

/** Result of one run of a read: the reply and the Raft index it reflects. */
export interface ReadResult {
  readonly index: number;
  readonly reply: ApiReply;
}

/**
 * Serves a read of a state table the way Nomad serves one.
 *
 * Unless `stale` is set, the read includes every write committed before the request arrived,
 * because the server waited for `backend.consistentRead()` before resolving the ACL or the read
 * waits for it here. With `index=N`, `run` is repeated each time the table changes until its
 * result index exceeds N, the wait (plus jitter) runs out, or the client disconnects. The last
 * result is returned in every case, as Nomad does on a timeout.
 * `run` may return an index below the table's (a single row's ModifyIndex), which is why the
 * loop compares the result's index and not the table's.
 */
export async function blockingRead(
  request: ApiRequest,
  table: StateTable,
  run: () => ReadResult,
): Promise<ApiReply> {
  const options = parseReadOptions(request.query);
  const { backend } = request;
  await readConsistently(request, options.stale);

  let result = run();
  if (options.minIndex > 0 && result.index <= options.minIndex) {
    const waitMs = options.waitMs + jitterMs(options.waitMs);
    // One signal for both ends of the wait: the deadline and the client going away.
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), waitMs);
    const onClientGone = (): void => stop.abort();
    request.signal.addEventListener('abort', onClientGone, { once: true });
    if (request.signal.aborted) stop.abort();
    try {
      while (result.index <= options.minIndex && !stop.signal.aborted) {
        const observed = backend.state.tableIndex(table);
        await backend.state.waitForChange(table, Math.max(observed, options.minIndex), stop.signal);
        result = run();
      }
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onClientGone);
    }
  }

  return withReadHeaders(request, result.reply, result.index);
}

/**
 * Waits for `backend.consistentRead()` unless the read is `stale` or the server already waited
 * for this request before resolving its ACL.
 */
export async function readConsistently(request: ApiRequest, stale: boolean): Promise<void> {
  if (!stale && !request.consistent) await request.backend.consistentRead();
}

/** Adds Nomad's read headers: the result's index and this server's contact with the leader. */
export function withReadHeaders(request: ApiRequest, reply: ApiReply, index: number | null): ApiReply {
  const contact = request.backend.leaderContact();
  const headers: Record<string, string> = {
    ...reply.headers,
    'X-Nomad-KnownLeader': String(contact.knownLeader),
    'X-Nomad-LastContact': String(Math.max(0, Math.round(contact.lastContactMs))),
  };
  if (index !== null) headers['X-Nomad-Index'] = String(index);
  return { ...reply, headers };
}

function jitterMs(waitMs: number): number {
  const bound = Math.floor(waitMs / BLOCKING_JITTER_FRACTION);
  return bound > 0 ? randomInt(bound) : 0;
}
