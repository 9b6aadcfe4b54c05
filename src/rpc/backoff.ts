/**
 * Redial delays of a server link. After a drop the first redial comes within 50 ms. So a link that
 * broke for a moment (a peer restarting, a socket reset) is back well inside one election timeout,
 * and the peer does not start an election for lack of heartbeats. Each failure doubles the ceiling
 * up to 2 s. A server that is down then costs one dial per second on average, and a server that
 * comes back after a long outage is reached within 2 s.
 */
export const REDIAL_BASE_MS = 50;
export const REDIAL_CAP_MS = 2000;

/**
 * Returns the delay before redial number `attempt` (0 for the first after a drop), drawn
 * uniformly from [0, min(cap, base * 2^attempt)) ("full jitter"). The jitter spreads the dials of
 * servers that all lost the same peer at once, so they do not arrive together when it returns.
 */
export function redialDelayMs(
  attempt: number,
  random: () => number = Math.random,
  baseMs = REDIAL_BASE_MS,
  capMs = REDIAL_CAP_MS,
): number {
  // Math.min before the power keeps 2 ** attempt finite however many attempts have failed.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
