/**
 * Characters and length of a variable path, as Nomad checks them: letters, digits, `-`, `_`, `~`
 * and `/`, from 1 to 128 characters. Dots, `@` and spaces are invalid.
 */
export const VARIABLE_PATH_PATTERN = /^[a-zA-Z0-9\-_~/]{1,128}$/;

/** Top-level path segment that Nomad reserves for its own variables. */
const RESERVED_ROOT = 'nomad';

/**
 * Returns why `path` is not a valid variable path, or null when it is valid. Besides the pattern,
 * the top-level `nomad` directory is reserved, as in Nomad 1.11.2 and later: below it only
 * `nomad/jobs` and its descendants, `nomad/job-templates/NAME` (exactly one segment below) and
 * `nomad/sentinel` and its descendants may hold variables.
 */
export function variablePathProblem(path: string): string | null {
  if (path === '') return 'is required';
  if (!VARIABLE_PATH_PATTERN.test(path)) {
    return `must be 1 to 128 letters, digits, "-", "_", "~" or "/", got ${JSON.stringify(path.slice(0, 160))}`;
  }
  const segments = path.split('/');
  if (segments[0] !== RESERVED_ROOT) return null;
  if (segments.length === 1) {
    return 'must not be "nomad", which is reserved for Nomad. Write below "nomad/jobs" or "nomad/job-templates" instead';
  }
  switch (segments[1]) {
    case 'jobs':
    case 'sentinel':
      return null;
    case 'job-templates':
      return segments.length === 3
        ? null
        : 'must name one template directly below "nomad/job-templates", such as "nomad/job-templates/NAME"';
    default:
      return `is below the reserved directory "nomad", where only "nomad/jobs", "nomad/job-templates" and "nomad/sentinel" may hold variables, got ${JSON.stringify(path)}`;
  }
}
