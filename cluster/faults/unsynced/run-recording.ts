import { tmpdir } from 'node:os';
import type { FaultKind } from '../faults/fault.js';
import { shimBuildProblem } from './build-shim.js';
import { SyncRecording } from './sync-recording.js';

export interface SyncRecordingSetup {
  /** The run's recording, or null when `lose-unsynced` is not among the kinds. */
  readonly recording: SyncRecording | null;
  /** The kinds to schedule: the requested ones less `lose-unsynced` when it cannot work here. */
  readonly kinds: FaultKind[];
}

/**
 * Builds the sync shim for a run whose kinds include `lose-unsynced`. Without gcc the kind cannot
 * work: when the user listed it this raises, and from the default list it is left out with a log
 * line. Files are recorded under the system's temporary folder, where the launcher puts the
 * cluster's folders.
 */
export async function setUpSyncRecording(options: {
  readonly kinds: readonly FaultKind[];
  readonly kindsListed: boolean;
  readonly log: (line: string) => void;
}): Promise<SyncRecordingSetup> {
  const kinds = [...options.kinds];
  if (!kinds.includes('lose-unsynced')) return { recording: null, kinds };

  const problem = await shimBuildProblem();
  if (problem !== null) {
    if (options.kindsListed)
      throw new Error(`cannot inject lose-unsynced: ${problem}; leave it out of --faults to run the others`);
    options.log(`lose-unsynced left out: ${problem}`);
    return { recording: null, kinds: kinds.filter((kind) => kind !== 'lose-unsynced') };
  }
  const recording = await SyncRecording.create(tmpdir());
  options.log(`servers run under the sync shim; their journals go to ${recording.folder}`);
  return { recording, kinds };
}
