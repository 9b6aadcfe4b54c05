import { type HttpResponse, httpRequest } from '../../http-client.js';
import type { Outcome, VariableOperation } from '../history.js';

/** Namespace of every variable the fault suite writes; it exists in every cluster. */
export const WORKLOAD_NAMESPACE = 'default';

/** One variable operation to send, before it has an id, a process or times. */
export type VariableCall =
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'cas'; readonly key: string; readonly value: string; readonly casIndex: number }
  | { readonly kind: 'delete'; readonly key: string; readonly casIndex: number | null };

export interface CallTarget {
  /** `host:port` of a server's HTTP API. */
  readonly address: string;
  /** ACL token secret, or null when the cluster runs without ACLs. */
  readonly token: string | null;
  readonly timeoutMs: number;
}

/**
 * The outcome of a call and, for `ok`, its output in the history's shape. A lost check-and-set
 * (409) also carries the variable's current ModifyIndex (0 when absent), which the history has no
 * field for but the next check-and-set of the client can use.
 */
export type CallResult = Pick<VariableOperation, 'outcome' | 'output'> & {
  readonly currentIndex?: number;
  /**
   * The variable as a lost check-and-set's 409 reply showed it. The server reads it with a
   * consistent read after the rejection, inside the call, so it is a read of its own, which the
   * recorder adds to the history: a client that takes its next index from it must not make the
   * checker meet an index that no recorded operation returned.
   */
  readonly observed?: { readonly value: string | null; readonly index: number | null };
};

/**
 * Statuses that prove a write did not take effect: the server rejected the request before it
 * proposed anything (400 invalid, 403 denied) or the state machine rejected the entry (400).
 * Every other failed write (5xx, a timeout, a reset connection) may have been committed.
 */
const WRITE_NOT_APPLIED_STATUSES: ReadonlySet<number> = new Set([400, 403]);

/**
 * Sends `call` to one server through the variables HTTP API and classifies the reply as the
 * history format defines the outcomes. A refused connection is `fail`, because the request never
 * reached a server. A read that gets no reply is `fail` too: it changed nothing, and marking it
 * `unknown` would retire its process for no gain.
 */
export async function sendVariableCall(target: CallTarget, call: VariableCall): Promise<CallResult> {
  let response: HttpResponse;
  try {
    response = await httpRequest(target.address, methodOf(call), pathOf(call), {
      timeoutMs: target.timeoutMs,
      headers: target.token === null ? {} : { 'X-Nomad-Token': target.token },
      ...(call.kind === 'put' || call.kind === 'cas' ? { body: { Items: { value: call.value } } } : {}),
    });
  } catch (err) {
    const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    return failed(call.kind === 'get' || refused ? 'fail' : 'unknown');
  }
  return classify(call, response);
}

function methodOf(call: VariableCall): string {
  if (call.kind === 'get') return 'GET';
  return call.kind === 'delete' ? 'DELETE' : 'PUT';
}

function pathOf(call: VariableCall): string {
  const query = new URLSearchParams({ namespace: WORKLOAD_NAMESPACE });
  if ((call.kind === 'cas' || call.kind === 'delete') && call.casIndex !== null) {
    query.set('cas', String(call.casIndex));
  }
  return `/v1/var/${call.key}?${query}`;
}

function classify(call: VariableCall, response: HttpResponse): CallResult {
  const { status } = response;
  if (call.kind === 'get') {
    if (status === 404) return { outcome: 'ok', output: { value: null, index: null } };
    if (status !== 200) return failed('fail');
    const variable = parseVariable(response.body);
    return { outcome: 'ok', output: { value: variable.value, index: variable.modifyIndex } };
  }

  if (status === 409 && (call.kind === 'cas' || (call.kind === 'delete' && call.casIndex !== null))) {
    const currentIndex = parseConflictIndex(response.body);
    const observed = parseConflictVariable(response.body);
    return call.kind === 'cas'
      ? { outcome: 'ok', output: { succeeded: false, index: null }, ...currentIndex, ...observed }
      : { outcome: 'ok', output: { succeeded: false }, ...currentIndex, ...observed };
  }
  if (status < 200 || status > 299) {
    return failed(WRITE_NOT_APPLIED_STATUSES.has(status) ? 'fail' : 'unknown');
  }
  switch (call.kind) {
    case 'put':
      return { outcome: 'ok', output: { index: parseVariable(response.body).modifyIndex } };
    case 'cas':
      return { outcome: 'ok', output: { succeeded: true, index: parseVariable(response.body).modifyIndex } };
    case 'delete':
      return { outcome: 'ok', output: { succeeded: true } };
  }
}

function failed(outcome: Exclude<Outcome, 'ok'>): CallResult {
  return { outcome, output: null };
}

/**
 * Reads the item `value` and the ModifyIndex of a variable reply. Raises on any other shape,
 * because recording a guess would make the checker judge the cluster on a client bug.
 */
function parseVariable(body: string): { value: string; modifyIndex: number } {
  const variable = JSON.parse(body) as { Items?: { value?: unknown }; ModifyIndex?: unknown };
  const value = variable.Items?.value;
  const modifyIndex = variable.ModifyIndex;
  if (typeof value !== 'string' || typeof modifyIndex !== 'number' || !Number.isSafeInteger(modifyIndex)) {
    throw new Error(
      `invalid variable reply: expected Items.value and ModifyIndex, got ${body.slice(0, 200)}`,
    );
  }
  return { value, modifyIndex };
}

/**
 * Reads the current variable of a 409 reply as a read would record it: absent when its ModifyIndex
 * is 0, else its value and index. Nothing when the reply leaves out the items (a token that may
 * not read the path), because then the value is unknown.
 */
function parseConflictVariable(body: string): Pick<CallResult, 'observed'> {
  try {
    const variable = JSON.parse(body) as { Items?: { value?: unknown }; ModifyIndex?: unknown };
    const index = variable.ModifyIndex;
    if (index === 0) return { observed: { value: null, index: null } };
    const value = variable.Items?.value;
    if (typeof value !== 'string' || typeof index !== 'number' || !Number.isSafeInteger(index)) return {};
    return { observed: { value, index } };
  } catch {
    return {};
  }
}

/** Reads the ModifyIndex of a 409 reply's current variable, or nothing when the body has none. */
function parseConflictIndex(body: string): { currentIndex?: number } {
  try {
    const index = (JSON.parse(body) as { ModifyIndex?: unknown }).ModifyIndex;
    return typeof index === 'number' && Number.isSafeInteger(index) ? { currentIndex: index } : {};
  } catch {
    return {};
  }
}
