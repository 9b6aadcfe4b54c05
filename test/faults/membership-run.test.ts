import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runFaultCli } from './fault-cli.js';

/** Seed 4 plans membership, kill, membership, membership within 20 s. */
const ARGS = ['--seed', '4', '--duration', '20', '--faults', 'kill,membership', '--servers', '3'];

describe('membership fault run', { timeout: 180_000 }, () => {
  let out: string | null = null;
  after(async () => {
    if (out !== null) await rm(out, { recursive: true, force: true });
  });

  test('passes with removals and kills', async () => {
    out = await mkdtemp(join(tmpdir(), 'signet-membership-run-'));
    const { code, stdout, summary } = await runFaultCli([...ARGS, '--out', out], 150_000);
    const tail = stdout.slice(-3000);

    assert.notEqual(summary, null, `no summary line; output:\n${tail}`);
    assert.equal(summary!.violations, 0, tail);
    assert.equal(code, 0, tail);
    assert.ok(summary!.faults >= 3, `only ${summary!.faults} faults injected:\n${tail}`);

    // Each removal was injected and healed, which means its server came back as a voter.
    const removals = stdout.match(/fault \d+ at [\d.]+ s: membership: removed/g) ?? [];
    const rejoins = stdout.match(/healed at [\d.]+ s: membership: removed/g) ?? [];
    assert.ok(removals.length >= 2, `only ${removals.length} removals:\n${tail}`);
    assert.equal(rejoins.length, removals.length, tail);
  });
});
