import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { loseUnsynced } from '../../../cluster/faults/faults/lose-unsynced.js';
import { shimBuildProblem } from '../../../cluster/faults/unsynced/build-shim.js';
import { placeUnderRecording, SyncRecording } from '../../../cluster/faults/unsynced/sync-recording.js';
import { requestJson } from '../../../cluster/http-client.js';
import { Cluster, type ServerHandle } from '../../../cluster/launcher.js';
import { done, pending, waitFor } from '../../../cluster/wait.js';
import { waitForRootKey } from '../../cluster/fixture.js';

const problem = await shimBuildProblem();
const KEYS_PER_ROUND = 15;

interface VariableListItem {
  readonly Path: string;
  readonly ModifyIndex: number;
}

describe('lose-unsynced on a cluster', { skip: problem ?? false, timeout: 240_000 }, () => {
  let recording: SyncRecording;
  let cluster: Cluster | null = null;
  /** Every acknowledged write: path to ModifyIndex. */
  const acknowledged = new Map<string, number>();

  before(async () => {
    recording = await SyncRecording.create(tmpdir());
    cluster = await Cluster.start({ servers: 3, placeServer: placeUnderRecording(recording, undefined) });
    recording.attach(cluster);
  });
  after(async () => {
    await cluster?.stop();
    await recording.close();
  });

  /** Writes KEYS_PER_ROUND new variables, each acknowledged by the leader, through any server. */
  async function writeRound(round: string): Promise<void> {
    const servers = cluster!.live();
    for (let i = 0; i < KEYS_PER_ROUND; i++) {
      const path = `unsynced/${round}-${i}`;
      const reply = await requestJson<VariableListItem>(
        servers[i % servers.length]!.httpAddr,
        'PUT',
        `/v1/var/${path}?namespace=default`,
        { body: { Items: { value: `${round}-${i}` } }, timeoutMs: 10_000 },
      );
      acknowledged.set(path, reply.ModifyIndex);
    }
  }

  /** Waits until `server`'s own copy contains every acknowledged write at its index. */
  async function waitForEveryWrite(server: ServerHandle): Promise<void> {
    await waitFor(
      `${server.name} to hold every acknowledged write`,
      { timeoutMs: 60_000, intervalMs: 200 },
      async () => {
        const list = await requestJson<VariableListItem[]>(
          server.httpAddr,
          'GET',
          '/v1/vars?namespace=default&prefix=unsynced&stale=true',
        );
        const present = new Map(list.map((item) => [item.Path, item.ModifyIndex]));
        const missing = [...acknowledged].filter(([path, index]) => present.get(path) !== index);
        return missing.length === 0
          ? done(undefined)
          : pending(`missing or changed: ${JSON.stringify(missing)}`);
      },
    );
  }

  test('power loss keeps acknowledged writes', async () => {
    await waitForRootKey(cluster!);
    await writeRound('first');

    const fault = await loseUnsynced(recording, cluster!.servers(), true);
    assert.match(
      fault.description,
      /^lose-unsynced power loss on s1, s2, s3 \(SIGKILL; dropped [1-9][0-9]* unsynced bytes/,
    );
    await fault.heal();

    await cluster!.waitForLeader(60_000);
    await writeRound('second');
    for (const server of cluster!.servers()) await waitForEveryWrite(server);
  });

  test('leader loss keeps acknowledged writes', async () => {
    const leader = await cluster!.waitForLeader(60_000);
    await writeRound('third');

    const fault = await loseUnsynced(recording, [leader], false);
    assert.match(fault.description, new RegExp(`^lose-unsynced ${leader.name} \\(SIGKILL; dropped`));
    await fault.heal();

    await cluster!.waitForLeader(60_000);
    await writeRound('fourth');
    for (const server of cluster!.servers()) await waitForEveryWrite(server);
  });
});
