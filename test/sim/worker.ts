/**
 * Child process of the simulation runner: runs the seeds it is sent and replies with each result.
 * It exits when it is sent an empty batch.
 */
import type { WorkerReply, WorkerRequest } from './runner.js';
import { runSeed } from './simulation.js';

function reply(message: WorkerReply): void {
  process.send?.(message);
}

process.on('message', (request: WorkerRequest) => {
  if (request.jobs.length === 0) {
    process.disconnect();
    return;
  }
  for (const job of request.jobs) reply({ kind: 'result', result: runSeed(job) });
  reply({ kind: 'idle' });
});
