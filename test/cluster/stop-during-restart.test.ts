import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Cluster } from '../../cluster/launcher.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster } from './fixture.js';
import { processRuns } from './support/start-process.js';

// A fault's heal may restart a server while the run stops its cluster, on a signal or after an
// error. The stop must win: no server may run once stop() has returned.
describe('stop during a restart', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let cluster: Cluster | undefined;
  after(async () => {
    await cluster?.stop();
  });

  test('restart loses to stop', async () => {
    ({ cluster } = await startTestCluster(1));
    const [server] = cluster.servers();
    const oldPid = server!.pid!;

    // The outcome is taken at once, so the restart's rejection is never left unhandled.
    const restart = server!.restart().then(
      () => null,
      (err: unknown) => err as Error,
    );
    await cluster.stop();
    assert.match(
      (await restart)?.message ?? 'the restart started s1',
      /cannot start s1: its cluster is stopping/,
    );

    assert.equal(server!.state, 'stopped');
    assert.equal(server!.pid, undefined);
    assert.equal(processRuns(oldPid), false);
  });
});
