import { type CheckOptions, checkHistory } from '../checker/check.js';
import type { History, VariableOperation } from '../history.js';
import { describeJobViolation, type JobViolation } from './job-checks.js';

/** A write the cluster acknowledged that a server did not return after the faults healed. */
export interface LostWrite {
  readonly server: string;
  readonly key: string;
  /** The ModifyIndex the write was acknowledged with. */
  readonly index: number;
  /** The ModifyIndex the server has for the key instead, or null when it has no such variable. */
  readonly found: number | null;
}

/** A server or client agent that exited without the runner having signalled it. */
export interface Crash {
  /** The agent's name: `s1`, `s2`, ... for a server, the client's name for a client agent. */
  readonly agent: string;
  readonly code: number | null;
  readonly signal: string | null;
  readonly logPath: string;
}

/** Everything a run observed that the check step judges. */
export interface RunEvidence {
  readonly history: History;
  readonly lostWrites: readonly LostWrite[];
  readonly crashes: readonly Crash[];
  /** Time from the heal to the first acknowledged write, or null when none came within the bound. */
  readonly recoveryMs: number | null;
  readonly recoveryBoundMs: number;
}

export type RunViolation =
  | {
      readonly kind: 'not-linearizable';
      readonly key: string;
      /** A window of operations that no order explains, by call time. */
      readonly operations: readonly VariableOperation[];
      readonly otherKeys: readonly string[];
    }
  | { readonly kind: 'unchecked'; readonly keys: readonly string[]; readonly reason: string }
  | { readonly kind: 'lost-write'; readonly writes: readonly LostWrite[] }
  | { readonly kind: 'no-recovery'; readonly boundMs: number }
  | { readonly kind: 'crash'; readonly crash: Crash }
  | JobViolation;

/**
 * Judges a run: the variable history must be linearizable, no acknowledged write may be missing
 * on any server, the cluster must take a write within the bound after the heal, and no server may
 * crash, server or client agent. A key the checker could not finish within its budget counts as a violation too
 * (`unchecked`): nothing is proven about it, and a run must never pass on an unproven key.
 */
export function judgeRun(evidence: RunEvidence, options: CheckOptions = {}): RunViolation[] {
  const violations: RunViolation[] = [];
  const result = checkHistory(evidence.history, options);
  if (result.outcome === 'violation') {
    violations.push({
      kind: 'not-linearizable',
      key: result.violation.key,
      operations: result.violation.operations,
      otherKeys: result.violatingKeys.filter((key) => key !== result.violation.key),
    });
  }
  if (result.outcome !== 'linearizable' && result.exhaustedKeys.length > 0) {
    violations.push({
      kind: 'unchecked',
      keys: result.exhaustedKeys,
      reason: `the linearizability search ran out of budget (${result.statesVisited} states visited)`,
    });
  }
  if (evidence.lostWrites.length > 0) violations.push({ kind: 'lost-write', writes: evidence.lostWrites });
  if (evidence.recoveryMs === null)
    violations.push({ kind: 'no-recovery', boundMs: evidence.recoveryBoundMs });
  for (const crash of evidence.crashes) violations.push({ kind: 'crash', crash });
  return violations;
}

/** Lines that explain one violation to a person, without any secret. */
export function describeViolation(violation: RunViolation): string[] {
  switch (violation.kind) {
    case 'not-linearizable': {
      const others = violation.otherKeys.length === 0 ? '' : ` (also: ${violation.otherKeys.join(', ')})`;
      return [
        `not linearizable: key ${violation.key}${others}; no order explains these ${violation.operations.length} operations:`,
        ...violation.operations.map((operation) => `  ${describeOperation(operation)}`),
      ];
    }
    case 'unchecked':
      return [`unchecked: ${violation.reason} on keys ${violation.keys.join(', ')}`];
    case 'lost-write':
      return [
        `lost writes: ${violation.writes.length} acknowledged writes missing`,
        ...violation.writes
          .slice(0, 10)
          .map(
            (write) =>
              `  ${write.server}: ${write.key} acknowledged at index ${write.index}, found ${write.found ?? 'nothing'}`,
          ),
      ];
    case 'no-recovery':
      return [`no recovery: no write was acknowledged within ${violation.boundMs} ms of the heal`];
    case 'crash':
      return [
        `crash: ${violation.crash.agent} exited by itself (code ${violation.crash.code}, signal ${violation.crash.signal}); log: ${violation.crash.logPath}`,
      ];
    default:
      return describeJobViolation(violation);
  }
}

function describeOperation(operation: VariableOperation): string {
  const returned = Number.isFinite(operation.returnNs) ? `${msOf(operation.returnNs)}` : 'never';
  const input = operation.input === null ? '' : ` ${JSON.stringify(operation.input)}`;
  const output = operation.output === null ? '' : ` -> ${JSON.stringify(operation.output)}`;
  return `#${operation.id} p${operation.process} ${operation.kind}${input} ${operation.outcome}${output} [${msOf(operation.callNs)} .. ${returned} ms]`;
}

function msOf(ns: number): string {
  return (ns / 1e6).toFixed(1);
}
