import type { Allocation } from '../structs/allocation.js';
import type { Job } from '../structs/job.js';

/**
 * An allocation as Alloc.GetAllocs returns it to a client: with the job it runs, as in Nomad,
 * because the client needs the tasks' driver, config and env. Job is null when the job was purged.
 */
export interface ClientAllocation extends Allocation {
  readonly Job: Job | null;
}
