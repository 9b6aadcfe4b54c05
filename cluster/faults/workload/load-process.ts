// The fault suite's load process: concurrent clients call the variables API of random servers and
// record every call in the history format. It runs apart from the runner, so that its CPU work
// and event-loop delays neither slow the fault schedule nor skew the recorded times.
import { setTimeout as delay } from 'node:timers/promises';
import { Prng } from '../../../test/sim/prng.js';
import { writeHistoryFile } from '../history.js';
import { runJobClient } from './jobs-client.js';
import { writeJobLog } from './jobs-log.js';
import { OperationMix } from './operation-mix.js';
import type { OutcomeCounts, RunnerMessage, WorkloadConfig, WorkloadMessage } from './protocol.js';
import { HistoryRecorder } from './recorder.js';
import { sendVariableCall } from './variable-call.js';

/** Pause after a call that failed or timed out, so that clients do not spin on a server that is down. */
const FAILURE_BACKOFF_MS = 100;

// The runner is gone (killed, or exited without a stop message), so the history has no reader: exit now.
process.on('disconnect', () => process.exit(0));
// The configuration comes over IPC rather than in argv, where `ps` would show the ACL token to
// every user of the machine. The runner sends it on `ready`, because a message that arrives
// before this listener exists is lost.
const config = await new Promise<WorkloadConfig>((resolve) => {
  process.once('message', (message: RunnerMessage) => {
    if (message.type === 'start') resolve(message.config);
  });
  send({ type: 'ready' });
});
const recorder = new HistoryRecorder(BigInt(config.originNs));
const counts = { operations: 0, ok: 0, fail: 0, unknown: 0 };
let stopping = false;
/**
 * Process ids of the history. A client whose call ended `unknown` takes a new one, because that
 * call may still take effect at any later time and the format allows one open call per process.
 */
let nextProcess = config.clients;

/**
 * Sends `message` to the runner, then calls `then`. Once the runner is gone (a signal ended it
 * during the start, say), the message is dropped: a send on the closed channel would raise
 * ERR_IPC_CHANNEL_CLOSED and end this process with a stack trace.
 */
function send(message: WorkloadMessage, then?: () => void): void {
  if (process.send === undefined || !process.connected) {
    then?.();
    return;
  }
  process.send(message, undefined, undefined, () => then?.());
}

async function runClient(client: number): Promise<void> {
  const random = new Prng(config.seed, 1 + client);
  const mix = new OperationMix(random.fork(), client, config.registerKeys, config.ledgerPrefix);
  // Each client's share of the target rate.
  const intervalMs = (1000 * config.clients) / config.ratePerSecond;
  let processId = client;
  // Spread the clients' first calls over one interval, so that they do not move in step.
  await delay(random.float() * intervalMs);

  while (!stopping) {
    const slotEnd = performance.now() + intervalMs;
    const call = mix.next();
    const address = random.pick(config.addresses);
    const callNs = recorder.now();
    const result = await sendVariableCall(
      { address, token: config.token, timeoutMs: config.requestTimeoutMs },
      call,
    );
    recorder.record(processId, call, callNs, recorder.now(), result);
    mix.learn(call.key, result);

    counts.operations++;
    counts[result.outcome]++;
    if (result.outcome === 'unknown') processId = nextProcess++;
    const waitMs = Math.max(slotEnd - performance.now(), result.outcome === 'ok' ? 0 : FAILURE_BACKOFF_MS);
    if (waitMs > 0 && !stopping) await delay(waitMs);
  }
}

async function main(): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    process.on('message', (message: RunnerMessage) => {
      if (message.type === 'stop') resolve();
    });
  });
  const progress = setInterval(() => send({ type: 'progress', ...snapshot() }), config.progressIntervalMs);
  const clients = Array.from({ length: config.clients }, (_, client) => runClient(client).catch(fail));
  const jobClient = startJobClient().catch(fail);

  await stopped;
  stopping = true;
  clearInterval(progress);
  await Promise.all([...clients, jobClient]);
  await writeHistoryFile(config.historyFile, { operations: recorder.operations() });
  // Disconnect only once the last message is out, or the runner may never see it.
  send({ type: 'stopped', nextId: recorder.nextId, nextProcess, ...snapshot() }, () => {
    if (process.connected) process.disconnect();
  });
}

/** Runs the job client when the runner asked for one, and writes its side log once it stops. */
async function startJobClient(): Promise<void> {
  const jobs = config.jobs;
  if (jobs === undefined) return;
  const events = await runJobClient({
    config: jobs,
    addresses: config.addresses,
    token: config.token,
    requestTimeoutMs: config.requestTimeoutMs,
    random: new Prng(config.seed, 0x70b5),
    now: () => recorder.now(),
    isStopping: () => stopping,
  });
  await writeJobLog(jobs.logFile, events);
}

function snapshot(): OutcomeCounts {
  return { ...counts };
}

/**
 * Reports an error to the runner and ends the process once the message is out: a history with a
 * hole in it proves nothing.
 */
function fail(err: unknown): void {
  stopping = true;
  const message: WorkloadMessage = { type: 'error', message: (err as Error).stack ?? String(err) };
  send(message, () => process.exit(1));
}

main().catch(fail);
