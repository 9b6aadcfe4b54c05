import { canonicalizeJob, JobValidationError, validateJob } from '../../jobspec/index.js';
import { RequestError } from '../../server/request-error.js';
import type { Job } from '../../structs/job.js';
import type { ApiRequest } from '../api-request.js';
import { DEFAULT_NAMESPACE } from '../query-params.js';

/**
 * Reads the `{"Job": {...}}` body of `PUT /v1/jobs` and `POST /v1/job/:id` and returns the job
 * canonicalized and validated. `pathJobId` is the `:id` of the second form, which must equal the
 * body's Job.ID. Every refusal is a RequestError 400; validation failures list every problem.
 */
export async function jobFromRequest(request: ApiRequest, pathJobId: string | null): Promise<Job> {
  const body = await request.readJson();
  if (!isRecord(body)) {
    throw new RequestError(400, 'Invalid request body: expected a JSON object such as {"Job": {...}}');
  }
  const input = body.Job;
  // Nomad's messages, word for word: clients match on them.
  if (input === undefined || input === null) throw new RequestError(400, 'Job must be specified');
  if (!isRecord(input)) throw new RequestError(400, 'Invalid job: Job must be a JSON object');
  if (input.ID === undefined || input.ID === null) {
    throw new RequestError(400, "Job ID hasn't been provided");
  }
  if (pathJobId !== null && input.ID !== pathJobId) {
    throw new RequestError(400, 'Job ID does not match name');
  }

  const namespace = jobNamespace(request.query, body.Namespace, input.Namespace);
  return canonicalAndValid({ ...input, Namespace: namespace });
}

/**
 * Picks the job's namespace with Nomad's precedence: `?namespace=`, then the request body's
 * top-level Namespace, then Job.Namespace, then `default`.
 */
function jobNamespace(query: URLSearchParams, requestNamespace: unknown, jobNamespace: unknown): string {
  for (const candidate of [query.get('namespace'), requestNamespace, jobNamespace]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  return DEFAULT_NAMESPACE;
}

function canonicalAndValid(input: Record<string, unknown>): Job {
  let job: Job;
  try {
    job = canonicalizeJob(input);
  } catch (err) {
    if (err instanceof JobValidationError) throw new RequestError(400, err.message);
    throw err;
  }
  const problems = validateJob(job);
  if (problems.length > 0) throw new RequestError(400, new JobValidationError(problems).message);
  return job;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
