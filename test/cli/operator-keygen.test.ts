import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { decodeClusterKey } from '../../src/rpc/cluster-key.js';

const run = promisify(execFile);

test('operator keygen prints fresh keys', async () => {
  const keys = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const { stdout } = await run(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'operator',
      'keygen',
    ]);
    assert.match(stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(decodeClusterKey(stdout.trim()).length, 32);
    keys.add(stdout);
  }
  assert.equal(keys.size, 2, 'two runs print two different keys');
});
