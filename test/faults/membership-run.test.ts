import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('../../cluster/faults.ts', import.meta.url));
const SUMMARY = /^operations=(\d+) faults=(\d+) violations=(\d+)$/;
/** Seed 4 plans membership, kill, membership, membership within 20 s. */
const ARGS = ['--seed', '4', '--duration', '20', '--faults', 'kill,membership', '--servers', '3'];

/** Runs cluster/faults.ts with `args` and returns its exit code and standard output. */
function runFaults(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: timeoutMs,
      killSignal: 'SIGINT',
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('membership fault run', { timeout: 180_000 }, () => {
  let out: string | null = null;
  after(async () => {
    if (out !== null) await rm(out, { recursive: true, force: true });
  });

  test('passes with removals and kills', async () => {
    out = await mkdtemp(join(tmpdir(), 'signet-membership-run-'));
    const { code, stdout } = await runFaults([...ARGS, '--out', out], 150_000);
    const tail = stdout.slice(-3000);

    const summary = SUMMARY.exec(stdout.trimEnd().split('\n').at(-1) ?? '');
    assert.notEqual(summary, null, `no summary line; output:\n${tail}`);
    assert.equal(Number(summary![3]), 0, tail);
    assert.equal(code, 0, tail);
    assert.ok(Number(summary![2]) >= 3, `only ${summary![2]} faults injected:\n${tail}`);

    // Each removal was injected and healed, which means its server came back as a voter.
    const removals = stdout.match(/fault \d+ at [\d.]+ s: membership: removed/g) ?? [];
    const rejoins = stdout.match(/healed at [\d.]+ s: membership: removed/g) ?? [];
    assert.ok(removals.length >= 2, `only ${removals.length} removals:\n${tail}`);
    assert.equal(rejoins.length, removals.length, tail);
  });
});
