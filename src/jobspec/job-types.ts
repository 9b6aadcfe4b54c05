/** Job types that Nomad has and Signet's scheduler does not run. */
const UNSUPPORTED_JOB_TYPES: ReadonlySet<string> = new Set(['system', 'sysbatch']);

export function isUnsupportedJobType(type: string): boolean {
  return UNSUPPORTED_JOB_TYPES.has(type);
}

export function unsupportedJobType(type: string): string {
  return `Job type ${JSON.stringify(type)} is not supported: Signet schedules only service and batch jobs`;
}
