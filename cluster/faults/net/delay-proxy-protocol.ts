import type { DelayRule } from './delay-proxy.js';

/**
 * The lines a delay proxy process and its runner exchange, one JSON object per line: commands on
 * the process's stdin, replies on its stdout.
 */

/** Replaces the proxy's rules. The proxy replies `applied` with the same id. */
export interface SetRulesCommand {
  readonly id: number;
  readonly rules: readonly DelayRule[];
}

export type DelayProxyReply =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'applied'; readonly id: number }
  | { readonly type: 'error'; readonly id: number | null; readonly message: string };
