import type { Acl } from '../../acl/index.js';
import { RequestError } from '../../server/request-error.js';
import { encodeSnapshotArchiveChunks } from '../../server/snapshot/archive-format.js';
import { SIGNET_VERSION } from '../../version.js';
import { binaryReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { readConsistently, withReadHeaders } from '../blocking-read.js';
import { parseReadOptions } from '../read-options.js';
import type { ApiRouter } from '../router.js';

/** Media type of a snapshot archive. Nomad's archive is a gzipped tar; Signet's has its own layout. */
export const SNAPSHOT_CONTENT_TYPE = 'application/octet-stream';

/**
 * `GET /v1/operator/snapshot`: the replicated state as a snapshot archive (see archive-format.ts),
 * for `operator snapshot save`. A management token is required, as in Nomad, because the archive
 * contains every ACL token's secret. Without `?stale` the state includes every write committed before
 * the request (ReadIndex through the leader); with it, the server encodes its own state, which
 * is how to save a snapshot while the cluster has no leader.
 *
 * Restoring is offline (`operator raft recover -snapshot FILE`), so Nomad's `PUT` is not served.
 *
 * Encoding the state runs synchronously on the event loop, so this server answers nothing else
 * meanwhile (measured in docs/operations-snapshot.md). One request at a time is served per server;
 * an overlapping one gets 429, so repeated requests cannot queue up pauses back to back.
 */
export function registerOperatorSnapshotRoutes(router: ApiRouter): void {
  let saving = false;
  router.on('GET', '/v1/operator/snapshot', async (request) => {
    authorize(request, isManagement);
    const options = parseReadOptions(request.query);
    if (saving) {
      throw new RequestError(
        429,
        'A snapshot is already being written by this server; retry once it has finished',
      );
    }
    saving = true;
    try {
      await readConsistently(request, options.stale);

      const { backend } = request;
      // Both reads happen in this one turn of the event loop, so no entry is applied between them.
      const state = backend.state.snapshot();
      const index = backend.state.latestIndex;
      const { term, membership } = backend.snapshotContext(index);
      if (index === 0) {
        // Only a server that has never been part of a cluster, asked with ?stale, has nothing to save.
        throw new RequestError(
          500,
          'No cluster state: this server has not joined a cluster yet; save the snapshot from a cluster member',
        );
      }

      const chunks = await encodeSnapshotArchiveChunks(
        { index, term, membership, createdAt: new Date().toISOString(), signetVersion: SIGNET_VERSION },
        state,
      );
      return withReadHeaders(request, binaryReply(chunks, SNAPSHOT_CONTENT_TYPE), index);
    } finally {
      saving = false;
    }
  });
}

function isManagement(acl: Acl): boolean {
  return acl.isManagement();
}
