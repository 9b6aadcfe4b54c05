import { RequestError } from '../../server/request-error.js';
import { jsonReply } from '../api-request.js';
import type { ApiRouter } from '../router.js';

/**
 * `GET /v1/metrics`: JSON in Nomad's layout by default, Prometheus text with `?format=prometheus`.
 * Like Nomad, it needs no ACL capability, and it skips authentication.
 */
export function registerMetricsRoutes(router: ApiRouter): void {
  router.on(
    'GET',
    '/v1/metrics',
    async (request) => {
      const format = request.query.get('format');
      const { metrics } = request.backend;
      if (format === 'prometheus') {
        return {
          body: { kind: 'text', value: await metrics.prometheus(), contentType: metrics.contentType },
        };
      }
      if (format !== null && format !== '' && format !== 'json') {
        throw new RequestError(400, `Invalid format ${JSON.stringify(format)}: expected prometheus or json`);
      }
      return jsonReply(await metrics.json());
    },
    'none',
  );
}
