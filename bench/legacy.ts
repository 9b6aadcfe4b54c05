import { runAclBench } from './acl.js';
import { runAclResolveBench } from './acl-resolve.js';
import { runIdentityBench } from './identity.js';
import { runKeyringBench } from './keyring.js';
import { runPlacementBench } from './placement.js';
import { runRaftCoreBench } from './raft-core.js';
import { runSchedulerBench } from './scheduler.js';
import { runSnapshotBench } from './snapshot.js';
import { runStateBench } from './state.js';
import { runStorageBench } from './storage.js';
import { runTransportBench } from './transport.js';
import { runVariableWritesBench } from './variable-writes.js';

/**
 * Runs every one-line-per-case benchmark (`npm run bench -- --legacy`). Figures depend on the
 * machine; docs/benchmarks.md records the ones measured so far, with the machine they came from.
 */
export async function runLegacyBenchmarks(): Promise<void> {
  for (const line of runRaftCoreBench()) console.log(line);
  for (const line of await runStorageBench()) console.log(line);
  for (const line of runStateBench()) console.log(line);
  for (const line of await runSnapshotBench()) console.log(line);
  for (const line of runSchedulerBench()) console.log(line);
  for (const line of await runTransportBench()) console.log(line);
  for (const line of runKeyringBench()) console.log(line);
  for (const line of await runIdentityBench()) console.log(line);
  for (const line of await runPlacementBench()) console.log(line);
  for (const line of await runAclBench()) console.log(line);
  for (const line of await runAclResolveBench()) console.log(line);
  for (const line of await runVariableWritesBench()) console.log(line);
}
