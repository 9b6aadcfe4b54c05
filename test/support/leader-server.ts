import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { keyEncryptionKey } from '../../src/keyring/index.js';
import { bootstrapState } from '../../src/raft/bootstrap.js';
import { RaftDriver } from '../../src/raft/driver.js';
import { LevelStorage } from '../../src/raft/storage/level.js';
import { newRootKeyCommand } from '../../src/server/keyring/new-root-key.js';
import { ServerKeyring } from '../../src/server/keyring/server-keyring.js';
import { ReplicatedState } from '../../src/server/replicated-state.js';
import { newEvaluation, nowNanos } from '../../src/server/scheduling/evaluations.js';
import { LeaderScheduling } from '../../src/server/scheduling/leader-scheduling.js';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import { type ApplyResult, StateStore } from '../../src/state/store.js';
import { isTerminal } from '../../src/structs/allocation.js';
import type { Job } from '../../src/structs/job.js';
import type { Node } from '../../src/structs/node.js';
import { waitFor } from '../raft/driver/harness.js';

/**
 * Starts one server on LevelDB with the real state store and the leader's scheduling services, as
 * the agent wires them, and registers its teardown with `t.after`.
 */
export async function startLeaderServer(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(join(tmpdir(), 'signet-leader-'));
  const storage = await LevelStorage.open(root);
  const durable = bootstrapState([1]);
  await storage.save({
    snapshot: null,
    truncateFrom: null,
    compactTo: null,
    entries: durable.entries,
    hardState: durable.hardState,
  });
  const store = new StateStore();
  const replicated = new ReplicatedState(store);
  const silent = pino({ level: 'silent' });
  const driver = new RaftDriver({
    raft: { id: 1, random: (bound) => randomInt(bound) },
    storage,
    durable,
    sender: { send: () => false },
    stateMachine: replicated,
    tickMs: 10,
    snapshotThresholdEntries: 1_000_000,
    snapshotThresholdBytes: 1024 ** 3,
    logger: silent,
    onFatal: () => undefined,
  });
  driver.start();
  await waitFor(() => driver.status().role === 'leader', 10_000, 'the server to lead');
  // The agent's keyring leader commits the first root key when it takes office; scheduling waits for it.
  const kek = keyEncryptionKey(randomBytes(32));
  await driver.propose(encodeCommand(newRootKeyCommand(kek, Date.now(), 'inactive').command));
  const keyring = new ServerKeyring({ state: store, kek, logger: silent });
  const scheduling = new LeaderScheduling({
    state: store,
    driver,
    logger: silent,
    capacityFreedIndex: () => replicated.capacityFreedIndex,
    keyring,
    region: 'global',
    oidcIssuer: null,
  });
  await scheduling.start();
  t.after(async () => {
    await scheduling.stop();
    await driver.stop();
    await storage.close();
    await rm(root, { recursive: true, force: true });
  });

  const commit = async (command: Command): Promise<number> => {
    const { index, result } = await driver.propose(encodeCommand(command));
    const outcome = result as ApplyResult;
    assert.ok(outcome.ok, `${command.type}: ${outcome.ok ? '' : outcome.message}`);
    return index;
  };
  const register = (job: Job) =>
    commit({
      type: 'job-register',
      v: 1,
      job,
      eval: newEvaluation({
        id: randomUUID(),
        namespace: job.Namespace,
        jobId: job.ID,
        job,
        trigger: 'job-register',
        now: nowNanos(),
      }),
    });
  const addNode = (node: Node) => commit({ type: 'node-register', v: 1, node });
  const liveAllocs = (jobId: string) =>
    store.allocationsByJob('default', jobId).filter((alloc) => !isTerminal(alloc));
  return { store, driver, keyring, scheduling, commit, register, addNode, liveAllocs };
}
