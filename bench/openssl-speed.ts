import { spawnSync } from 'node:child_process';

/** Ed25519 signatures and verifications per second that `openssl speed` measured on one core. */
export interface OpensslRates {
  readonly sign: number;
  readonly verify: number;
}

/**
 * Runs `openssl speed -seconds SECONDS ed25519`, the machine's reference rate for the curve, and
 * returns its rates, or a sentence saying why there are none (no binary, a failed run, an output
 * without the Ed25519 row), so a report never shows an invented number.
 */
export function opensslEd25519Rates(seconds: number): OpensslRates | string {
  const result = spawnSync('openssl', ['speed', '-seconds', String(seconds), 'ed25519'], {
    encoding: 'utf8',
    timeout: (seconds * 2 + 30) * 1000,
  });
  if (result.error !== undefined) return `not measured, openssl did not run: ${result.error.message}`;
  if (result.status !== 0) return `not measured, openssl speed exited with status ${result.status}`;
  // The summary row reads "253 bits EdDSA (Ed25519)   <s/sign>   <s/verify>   <sign/s> <verify/s>".
  const row = result.stdout.split('\n').find((line) => line.includes('(Ed25519)'));
  const fields = row?.trim().split(/\s+/) ?? [];
  const signRate = Number(fields.at(-2));
  const verifyRate = Number(fields.at(-1));
  if (row === undefined || !Number.isFinite(signRate) || !Number.isFinite(verifyRate)) {
    return 'not measured, the openssl speed output has no Ed25519 row';
  }
  return { sign: Math.round(signRate), verify: Math.round(verifyRate) };
}
