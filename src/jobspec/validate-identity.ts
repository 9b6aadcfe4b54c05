import type { Task, WorkloadIdentity } from '../structs/job.js';
import { JOB_DEFAULTS } from './defaults.js';
import { type Place, type ProblemList, placeInside } from './problems.js';

/** Nomad's rule for identity names, which become file and environment variable names on clients. */
const IDENTITY_NAME_PATTERN = /^[a-zA-Z0-9-_]{1,128}$/;

/**
 * Checks the default identity (Task.Identity) and the named ones (Task.Identities): valid names,
 * each name once, `default` at most once and only in Task.Identity, non-empty audiences, TTL >= 0.
 */
export function checkIdentities(task: Task, taskPlace: Place, problems: ProblemList): void {
  if (task.Identity !== null) {
    const place = placeInside(taskPlace, 'Identity', 'identity');
    checkIdentity(task.Identity, place, problems);
    if (task.Identity.Name !== JOB_DEFAULTS.IdentityName) {
      problems.add(
        place,
        'Name',
        `Identity holds the default identity, not ${JSON.stringify(task.Identity.Name)}: list named identities in Identities`,
      );
    }
  }

  const seen = new Set<string>();
  task.Identities.forEach((identity, index) => {
    const place = placeInside(taskPlace, `Identities[${index}]`, `identity ${JSON.stringify(identity.Name)}`);
    checkIdentity(identity, place, problems);

    if (identity.Name === JOB_DEFAULTS.IdentityName) {
      problems.add(place, 'Name', 'Duplicate default identities found');
    } else if (seen.has(identity.Name)) {
      problems.add(place, 'Name', `Duplicate identity name ${JSON.stringify(identity.Name)}`);
    }
    seen.add(identity.Name);
  });
}

function checkIdentity(identity: WorkloadIdentity, place: Place, problems: ProblemList): void {
  if (!IDENTITY_NAME_PATTERN.test(identity.Name)) {
    problems.add(
      place,
      'Name',
      `invalid name ${JSON.stringify(identity.Name)}. Must match regex ${IDENTITY_NAME_PATTERN.source}`,
    );
  }
  identity.Audience.forEach((audience, index) => {
    if (audience === '') {
      problems.add(place, `Audience[${index}]`, `an empty string is an invalid audience (${index + 1})`);
    }
  });
  if (typeof identity.Env !== 'boolean') problems.add(place, 'Env', 'Env must be a boolean');
  if (typeof identity.File !== 'boolean') problems.add(place, 'File', 'File must be a boolean');

  // NOTE: Nomad rejects a TTL on the default identity ("not yet supported"). Signet accepts it:
  // the default identity is the only one its servers sign, and a TTL is what gives it an `exp`.
  if (!Number.isInteger(identity.TTL) || identity.TTL < 0) problems.add(place, 'TTL', 'ttl must be >= 0');
}
