/**
 * Outcome of applying one Raft entry, the same on every replica that runs the same code.
 * A `rejected` command was valid, but the state rejected it (for example, a missing namespace),
 * so the request that proposed it fails with `status`. An `undecodable` entry is not a command
 * this version reads. That happens only when a newer leader proposes a command type or version
 * that this server does not know, and then replicas on different versions disagree.
 */
export type ApplyResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'rejected' | 'undecodable';
      /** HTTP status in Nomad's convention: 400 bad request, 404 not found, 500 internal. */
      readonly status: number;
      readonly message: string;
    };

export const APPLIED: ApplyResult = Object.freeze({ ok: true });

export function rejected(status: number, message: string): ApplyResult {
  return { ok: false, reason: 'rejected', status, message };
}
