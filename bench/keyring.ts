import { spawnSync } from 'node:child_process';
import { sign, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { deriveSigningKey, generateRootKey } from '../src/keyring/index.js';

/**
 * Raw Ed25519 rates of node:crypto on one core, the ceiling that identity signing in the plan
 * applier and verification on a server are compared with. `openssl speed` runs beside it, when
 * the binary exists, as the machine's reference for the same curve.
 */
const OPS = 5_000;
const WARMUP_OPS = 500;
const OPENSSL_SECONDS = 3;
/** Signing input of about a default identity's size: an estimate of its base64url header and claims. */
const SIGNING_INPUT = Buffer.from('x'.repeat(420));

function opsPerSecond(ops: number, run: () => void): number {
  for (let i = 0; i < WARMUP_OPS; i++) run();
  const started = performance.now();
  for (let i = 0; i < ops; i++) run();
  return Math.round(ops / ((performance.now() - started) / 1000));
}

/** Runs `openssl speed ed25519` and returns its sign/s and verify/s, or the reason it failed. */
function opensslRates(): { sign: number; verify: number } | string {
  const result = spawnSync('openssl', ['speed', '-seconds', String(OPENSSL_SECONDS), 'ed25519'], {
    encoding: 'utf8',
    timeout: (OPENSSL_SECONDS * 2 + 30) * 1000,
  });
  if (result.error !== undefined) return `openssl not run: ${result.error.message}`;
  if (result.status !== 0) return `openssl speed exited with status ${result.status}`;
  // The summary row reads "253 bits EdDSA (Ed25519)   <s/sign>   <s/verify>   <sign/s> <verify/s>".
  const row = result.stdout.split('\n').find((line) => line.includes('(Ed25519)'));
  const fields = row?.trim().split(/\s+/) ?? [];
  const signRate = Number(fields.at(-2));
  const verifyRate = Number(fields.at(-1));
  if (!Number.isFinite(signRate) || !Number.isFinite(verifyRate))
    return 'openssl speed output has no Ed25519 row';
  return { sign: Math.round(signRate), verify: Math.round(verifyRate) };
}

export function runKeyringBench(): string[] {
  const { meta, material } = generateRootKey(Date.now() * 1_000_000);
  const key = deriveSigningKey(meta.KeyID, material);
  const signature = sign(null, SIGNING_INPUT, key.privateKey);

  const signRate = opsPerSecond(OPS, () => sign(null, SIGNING_INPUT, key.privateKey));
  const verifyRate = opsPerSecond(OPS, () => {
    if (!verify(null, SIGNING_INPUT, key.publicKey, signature))
      throw new Error('benchmark signature did not verify');
  });

  const lines = [
    `keyring ed25519 node:crypto: ${OPS} signs, one core: ${signRate} ops/s`,
    `keyring ed25519 node:crypto: ${OPS} verifies, one core: ${verifyRate} ops/s`,
  ];
  const openssl = opensslRates();
  if (typeof openssl === 'string') {
    lines.push(`keyring ed25519 openssl speed: ${openssl}`);
  } else {
    lines.push(
      `keyring ed25519 openssl speed -seconds ${OPENSSL_SECONDS}: sign ${openssl.sign} ops/s, verify ${openssl.verify} ops/s`,
      `keyring ed25519 node:crypto / openssl: sign ${(signRate / openssl.sign).toFixed(2)}x, verify ${(verifyRate / openssl.verify).toFixed(2)}x`,
    );
  }
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of runKeyringBench()) console.log(line);
}
