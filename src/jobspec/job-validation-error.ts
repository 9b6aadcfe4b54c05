import type { JobProblem } from './problems.js';

/** `INVALID_SYNTAX`: the HCL text does not parse. `INVALID_JOB`: the job parses but is not a valid job. */
export type JobErrorCode = 'INVALID_JOB' | 'INVALID_SYNTAX';

export interface JobValidationErrorOptions {
  readonly code?: JobErrorCode;
  /** Structured form of `problems`, in the same order. */
  readonly details?: readonly JobProblem[];
  /** Line of an HCL syntax error. */
  readonly line?: number | null;
}

/**
 * A job that Signet rejects, with every problem found. The message uses the multi-error form of
 * Nomad's API responses (hashicorp/go-multierror): `2 errors occurred:\n\t* ...\n\t* ...\n\n`.
 */
export class JobValidationError extends Error {
  override readonly name = 'JobValidationError';
  readonly code: JobErrorCode;
  readonly problems: readonly string[];
  readonly details: readonly JobProblem[];
  /** Line of an HCL syntax error, or null for every other problem. */
  readonly line: number | null;

  constructor(problems: readonly string[], options: JobValidationErrorOptions = {}) {
    super(formatMultiError(problems));
    this.code = options.code ?? 'INVALID_JOB';
    this.problems = problems;
    this.details = options.details ?? problems.map((text) => ({ field: '', text }));
    this.line = options.line ?? null;
  }

  static fromProblems(details: readonly JobProblem[]): JobValidationError {
    return new JobValidationError(
      details.map((problem) => problem.text),
      { details },
    );
  }
}

/** Formats problems as go-multierror does, which is how Nomad's API reports a rejected job. */
export function formatMultiError(problems: readonly string[]): string {
  const points = problems.map((problem) => `* ${problem}`).join('\n\t');
  const heading = problems.length === 1 ? '1 error occurred' : `${problems.length} errors occurred`;
  return `${heading}:\n\t${points}\n\n`;
}
