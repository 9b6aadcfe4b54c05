/**
 * Outcome of applying one Raft entry, the same on every replica that runs the same code.
 * A `rejected` command was valid, but the state rejected it (for example, a missing namespace),
 * so the request that proposed it fails with `status`. An `undecodable` entry is not a command
 * this version reads. That happens only when a newer leader proposes a command type or version
 * that this server does not know, and then replicas on different versions disagree.
 */
export type ApplyResult =
  | {
      readonly ok: true;
      /**
       * IDs that the command named but left unchanged, when there are any: for alloc-client-update,
       * allocations that do not exist or whose client status was already terminal. It reaches the
       * proposer through the Raft driver's result on the leader; a write forwarded from another
       * server returns only the index.
       */
      readonly skipped?: readonly string[];
      /**
       * True when the entry freed capacity for placements: an allocation stopped or finished, or a
       * node registered or became ready. The leader retries blocked evaluations only then.
       */
      readonly capacityFreed?: true;
    }
  | {
      readonly ok: false;
      readonly reason: 'rejected' | 'undecodable';
      /** HTTP status in Nomad's convention: 400 bad request, 403 forbidden, 404 not found, 500 internal. */
      readonly status: number;
      readonly message: string;
    };

export const APPLIED: ApplyResult = Object.freeze({ ok: true });

/** APPLIED, marked as freeing capacity. */
export const APPLIED_FREEING_CAPACITY: ApplyResult = Object.freeze({ ok: true, capacityFreed: true });

export function rejected(status: number, message: string): ApplyResult {
  return { ok: false, reason: 'rejected', status, message };
}
