import { sign, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { deriveSigningKey, generateRootKey } from '../src/keyring/index.js';
import { opensslEd25519Rates } from './openssl-speed.js';

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
  const openssl = opensslEd25519Rates(OPENSSL_SECONDS);
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
