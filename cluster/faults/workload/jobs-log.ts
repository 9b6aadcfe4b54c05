import { readFile, writeFile } from 'node:fs/promises';
import { IDENTITY_REFUSED, identityAccepted } from './jobs-spec.js';

/** Outcome of a job call, with the same meaning as in the variable history. */
export type JobCallOutcome = 'ok' | 'fail' | 'unknown';

/**
 * One call of the job client, in its side log. The log contains no token: a verification names the
 * allocation and task whose token it sent.
 */
export type JobEvent = RegisterEvent | DeregisterEvent | VerifyEvent | NoTokenEvent | OverPlacedEvent;

export interface RegisterEvent {
  readonly kind: 'register';
  readonly jobId: string;
  readonly count: number;
  readonly server: string;
  readonly callNs: number;
  readonly returnNs: number;
  readonly outcome: JobCallOutcome;
}

export interface DeregisterEvent {
  readonly kind: 'deregister';
  readonly jobId: string;
  readonly server: string;
  readonly callNs: number;
  readonly returnNs: number;
  readonly outcome: JobCallOutcome;
}

export interface VerifyEvent {
  readonly kind: 'verify';
  readonly allocId: string;
  readonly task: string;
  readonly server: string;
  readonly callNs: number;
  readonly returnNs: number;
  /** HTTP status of the identity probe (see identityProbePath), or null when no reply came. */
  readonly status: number | null;
}

/** A running allocation whose task had no token file when the job client looked. */
export interface NoTokenEvent {
  readonly kind: 'no-token';
  readonly allocId: string;
  readonly task: string;
  readonly callNs: number;
}

/**
 * A consistent allocation list of one job, taken during the faults, with more live allocations
 * (desired `run`, not finished on the client) than the job's count, or two with one name.
 */
export interface OverPlacedEvent {
  readonly kind: 'over-placed';
  readonly jobId: string;
  readonly count: number;
  /** The live allocations of the list. */
  readonly allocIds: readonly string[];
  readonly server: string;
  readonly callNs: number;
}

/** The job client's part of the load process's configuration. */
export interface JobWorkloadConfig {
  /** Data folders of the client agents, where each task's identity file lies. */
  readonly clientDataDirs: readonly string[];
  /** Jobs the client keeps registered at most; above it, it only deregisters and verifies. */
  readonly maxJobs: number;
  /** Time between the starts of two job calls, in ms. */
  readonly intervalMs: number;
  /** File the job client writes its side log to when the load stops. */
  readonly logFile: string;
}

/** Tally of a side log, for the progress lines. */
export interface JobEventCounts {
  readonly registered: number;
  readonly deregistered: number;
  readonly verifications: number;
  /** Verifications that the server accepted (200 or 404). */
  readonly accepted: number;
  /** Verifications that the server refused (403). */
  readonly refused: number;
  readonly noToken: number;
}

export function countJobEvents(events: readonly JobEvent[]): JobEventCounts {
  let registered = 0;
  let deregistered = 0;
  let verifications = 0;
  let accepted = 0;
  let refused = 0;
  let noToken = 0;
  for (const event of events) {
    if (event.kind === 'register' && event.outcome === 'ok') registered++;
    else if (event.kind === 'deregister' && event.outcome === 'ok') deregistered++;
    else if (event.kind === 'no-token') noToken++;
    else if (event.kind === 'verify') {
      verifications++;
      if (identityAccepted(event.status)) accepted++;
      else if (event.status === IDENTITY_REFUSED) refused++;
    }
  }
  return { registered, deregistered, verifications, accepted, refused, noToken };
}

export async function writeJobLog(file: string, events: readonly JobEvent[]): Promise<void> {
  await writeFile(file, `${JSON.stringify({ events })}\n`);
}

export async function readJobLog(file: string): Promise<JobEvent[]> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as { events?: unknown };
  if (!Array.isArray(parsed.events)) throw new Error(`invalid job log ${file}: expected an events array`);
  return parsed.events as JobEvent[];
}
