/**
 * A failure of the fault harness itself, not of Signet: a fault that it could not inject or undo
 * as designed, such as a rollback without its sync journal. The fault loop ends the run with it
 * (exit status 2) instead of skipping the fault, because a run that went on would judge another
 * run than the one planned, and could pass without the fault it was asked for.
 */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}
