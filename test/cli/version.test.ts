import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { SIGNET_VERSION } from '../../src/version.js';

const run = promisify(execFile);

test('version matches package.json', async () => {
  const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  assert.equal(SIGNET_VERSION, manifest.version);
});

test('signet version prints the version', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'version']);
  assert.equal(stdout, `Signet v${SIGNET_VERSION}\n`);
});

test('signet rejects an unknown command', async () => {
  await assert.rejects(
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'nosuchcommand']),
    (error) => {
      const failure = error as { code: number; stderr: string };
      assert.equal(failure.code, 1);
      assert.match(failure.stderr, /unknown command 'nosuchcommand'/);
      return true;
    },
  );
});
