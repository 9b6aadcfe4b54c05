import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CLOSED_STDOUT_EXIT_CODE } from '../../src/cli/closed-stdout.js';
import { archiveOf, membership, removeDir, stateWith, tempDir } from '../snapshot/support.js';

describe('CLI with a closed stdout', () => {
  let dir = '';
  after(() => removeDir(dir));

  // `signet ... | head -1` closes the pipe early, and the CLI must exit without an unhandled
  // EPIPE error and its stack trace.
  test('inspect piped into head', async () => {
    dir = await tempDir('closed-stdout');
    const file = join(dir, 'backup.snap');
    await writeFile(file, await archiveOf(stateWith(['web', 'batch']), 2, membership([7])));

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'operator', 'snapshot', 'inspect', file],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    // The reader goes away before the CLI has started, as `head` does after its first lines.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolveClose) => child.once('close', resolveClose));

    assert.equal(stderr, '', 'nothing is printed to stderr');
    assert.equal(code, CLOSED_STDOUT_EXIT_CODE);
  });
});
