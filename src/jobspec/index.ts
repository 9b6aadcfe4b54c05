export { canonicalizeJob } from './canonicalize-job.js';
export { JOB_DEFAULTS, JOB_LIMITS } from './defaults.js';
export {
  formatMultiError,
  type JobErrorCode,
  JobValidationError,
  type JobValidationErrorOptions,
} from './job-validation-error.js';
export { parseJobHcl } from './parse-job-hcl.js';
export type { JobProblem } from './problems.js';
export { listJobProblems, requireValidJob, validateJob } from './validate-job.js';
