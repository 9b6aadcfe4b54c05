import type { OverPlacedEvent } from '../workload/jobs-log.js';
import { JOB_GROUP } from '../workload/jobs-spec.js';

/** State of one allocation of the run's jobs after the heal, before it stopped them. */
export interface AllocationSeen {
  readonly id: string;
  /** `JOB.GROUP[INDEX]`, unique among the allocations a job should run. */
  readonly name: string;
  readonly jobId: string;
  readonly group: string;
  readonly desiredStatus: string;
  readonly clientStatus: string;
  /** Root key that signed its identities; '' when none did. */
  readonly signingKeyId: string;
  /** Tasks whose client has no identity file for them. */
  readonly tasksWithoutToken: readonly string[];
}

export interface JobSeen {
  readonly id: string;
  /** True once the job was deregistered (stopped). */
  readonly stop: boolean;
  /** Wanted allocations per task group. */
  readonly counts: Readonly<Record<string, number>>;
}

/** A server's reply to one identity, when it was not the one expected. */
export interface IdentityReply {
  readonly allocId: string;
  readonly task: string;
  readonly server: string;
  /** HTTP status of the identity probe (a stale read of the job's variable), or null when no reply came. */
  readonly status: number | null;
}

/** Everything the job checks judge; runner/job-evidence.ts gathers it from the live cluster. */
export interface JobEvidence {
  /** Allocation lists that the job client saw during the faults with a job placed twice. */
  readonly overPlacedDuringRun: readonly OverPlacedEvent[];
  readonly jobs: readonly JobSeen[];
  readonly allocations: readonly AllocationSeen[];
  /** False when the jobs had not reached their counts by the end of the settle time. */
  readonly settled: boolean;
  /** Identities of running allocations that some server did not accept within the catch-up time. */
  readonly refusedWhileRunning: readonly IdentityReply[];
  /** Allocations that were not finished on their client within the stop time after the runner stopped every job. */
  readonly notStopped: readonly string[];
  /** Identities that some server still accepted, past the catch-up time, after their allocation finished. */
  readonly acceptedAfterTerminal: readonly IdentityReply[];
  /** Identities sent to every server while their allocations ran, and after they finished. */
  readonly checkedRunning: number;
  readonly checkedTerminal: number;
}

export type JobViolation =
  | {
      readonly kind: 'placed-twice';
      readonly jobId: string;
      readonly group: string;
      /** The group's count, or null when two live allocations share a name. */
      readonly count: number | null;
      readonly allocIds: readonly string[];
    }
  | { readonly kind: 'missing-identity'; readonly allocId: string; readonly reason: string }
  | { readonly kind: 'identity-refused'; readonly replies: readonly IdentityReply[] }
  | { readonly kind: 'identity-after-terminal'; readonly replies: readonly IdentityReply[] }
  | { readonly kind: 'jobs-unsettled'; readonly reason: string };

/** Client statuses of an allocation that has finished on its client. */
const CLIENT_TERMINAL: ReadonlySet<string> = new Set(['complete', 'failed', 'lost']);

/** True for an allocation that the servers want running and its client has not finished. */
function isLive(alloc: AllocationSeen): boolean {
  return alloc.desiredStatus === 'run' && !CLIENT_TERMINAL.has(alloc.clientStatus);
}

/**
 * Judges the jobs and identities of a run. No group of a registered job may have more live
 * allocations than its count, and no two live allocations may share a name. Every allocation must
 * be signed, and the tasks of every running one must have their token. Every server must have
 * accepted the identities of running allocations, and refused them all once they finished.
 */
export function judgeJobs(evidence: JobEvidence): JobViolation[] {
  const violations: JobViolation[] = [...placedTwice(evidence)];

  for (const alloc of evidence.allocations) {
    if (alloc.signingKeyId === '') {
      violations.push({ kind: 'missing-identity', allocId: alloc.id, reason: 'no root key signed it' });
    } else if (alloc.clientStatus === 'running' && alloc.tasksWithoutToken.length > 0) {
      const tasks = alloc.tasksWithoutToken.join(', ');
      violations.push({
        kind: 'missing-identity',
        allocId: alloc.id,
        reason: `running, but its client holds no token for task ${tasks}`,
      });
    }
  }
  if (evidence.refusedWhileRunning.length > 0)
    violations.push({ kind: 'identity-refused', replies: evidence.refusedWhileRunning });
  if (evidence.acceptedAfterTerminal.length > 0)
    violations.push({ kind: 'identity-after-terminal', replies: evidence.acceptedAfterTerminal });
  if (!evidence.settled)
    violations.push({ kind: 'jobs-unsettled', reason: 'the jobs did not reach their counts after the heal' });
  if (evidence.notStopped.length > 0) {
    violations.push({
      kind: 'jobs-unsettled',
      reason: `${evidence.notStopped.length} allocations did not finish after their jobs were stopped: ${evidence.notStopped.join(', ')}`,
    });
  }
  return violations;
}

function placedTwice(evidence: JobEvidence): JobViolation[] {
  const violations: JobViolation[] = [];
  const live = evidence.allocations.filter(isLive);

  for (const job of evidence.jobs) {
    if (job.stop) continue;
    for (const [group, count] of Object.entries(job.counts)) {
      const allocs = live.filter((alloc) => alloc.jobId === job.id && alloc.group === group);
      if (allocs.length > count) {
        violations.push({
          kind: 'placed-twice',
          jobId: job.id,
          group,
          count,
          allocIds: allocs.map((a) => a.id),
        });
      }
    }
  }

  const byName = new Map<string, AllocationSeen[]>();
  for (const alloc of live) byName.set(alloc.name, [...(byName.get(alloc.name) ?? []), alloc]);
  for (const allocs of byName.values()) {
    if (allocs.length < 2) continue;
    const [first] = allocs as [AllocationSeen];
    violations.push({
      kind: 'placed-twice',
      jobId: first.jobId,
      group: first.group,
      count: null,
      allocIds: allocs.map((a) => a.id),
    });
  }

  for (const event of evidence.overPlacedDuringRun) {
    violations.push({
      kind: 'placed-twice',
      jobId: event.jobId,
      group: JOB_GROUP,
      count: event.count,
      allocIds: event.allocIds,
    });
  }
  return violations;
}

/** Lines that explain one job violation to a person; they name allocations, never tokens. */
export function describeJobViolation(violation: JobViolation): string[] {
  switch (violation.kind) {
    case 'placed-twice':
      return violation.count === null
        ? [
            `placed twice: ${violation.jobId} group ${violation.group} has live allocations with one name: ${violation.allocIds.join(', ')}`,
          ]
        : [
            `placed twice: ${violation.jobId} group ${violation.group} has ${violation.allocIds.length} live allocations for count ${violation.count}: ${violation.allocIds.join(', ')}`,
          ];
    case 'missing-identity':
      return [`missing identity: allocation ${violation.allocId}: ${violation.reason}`];
    case 'identity-refused':
      return [
        `identity refused: ${violation.replies.length} identities of running allocations not accepted`,
        ...violation.replies.slice(0, 10).map((reply) => `  ${describeReply(reply)}`),
      ];
    case 'identity-after-terminal':
      return [
        `identity after terminal: ${violation.replies.length} identities still accepted after their allocation finished`,
        ...violation.replies.slice(0, 10).map((reply) => `  ${describeReply(reply)}`),
      ];
    case 'jobs-unsettled':
      return [`jobs unsettled: ${violation.reason}`];
  }
}

function describeReply(reply: IdentityReply): string {
  return `${reply.server}: allocation ${reply.allocId} task ${reply.task} got ${reply.status ?? 'no reply'}`;
}
