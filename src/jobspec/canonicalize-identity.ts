import type { WorkloadIdentity } from '../structs/job.js';
import { JOB_DEFAULTS } from './defaults.js';
import { JsonFields } from './json-fields.js';
import { IDENTITY_FIELDS } from './nomad-fields.js';
import type { Place, ProblemList } from './problems.js';

/**
 * Decodes a workload identity as Nomad canonicalizes it: an empty name means `default`, and the
 * default identity's audience is always `nomadproject.io`, whatever the job gives.
 */
export function decodeIdentity(
  input: Readonly<Record<string, unknown>>,
  place: Place,
  problems: ProblemList,
): WorkloadIdentity {
  const fields = new JsonFields(input, IDENTITY_FIELDS, place, problems);
  const name = fields.string('Name', '') || JOB_DEFAULTS.IdentityName;
  const audience = fields.strings('Audience') ?? [];

  // ChangeMode and ChangeSignal tell a client how to react to a renewed token. They are ignored
  // because Signet never renews one.
  if (fields.string('Filepath', '') !== '') {
    problems.add(
      place,
      'Filepath',
      'Filepath is not supported: Signet writes each token to its default path in secrets/',
    );
  }

  return {
    Name: name,
    Audience: name === JOB_DEFAULTS.IdentityName ? [JOB_DEFAULTS.DefaultIdentityAudience] : [...audience],
    Env: fields.boolean('Env', false),
    File: fields.boolean('File', false),
    TTL: fields.integer('TTL', 0),
  };
}
