import type { Template } from '../structs/job.js';

const CHANGE_MODES: ReadonlySet<string> = new Set<Template['ChangeMode']>(['noop', 'restart', 'signal']);

/** True for the change modes Signet implements, which leave out Nomad's `script` mode. */
export function isChangeMode(mode: string): mode is Template['ChangeMode'] {
  return CHANGE_MODES.has(mode);
}

export function invalidChangeMode(mode: string): string {
  return `Invalid change mode ${JSON.stringify(mode)}: must be one of noop, restart or signal`;
}
