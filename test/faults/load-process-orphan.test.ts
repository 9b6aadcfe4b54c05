import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { processRuns } from '../cluster/support/start-process.js';

const LOAD_PROCESS = fileURLToPath(new URL('../../cluster/faults/workload/load-process.ts', import.meta.url));

// A runner that forks the load process and exits at once, as one ended by a signal during the
// start does. It prints the load process's pid, then leaves it with a closed IPC channel.
const ORPHANING_RUNNER = `
import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
const stderr = openSync(process.argv[1], 'w');
const child = fork(process.argv[2], [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', stderr, 'ipc'], detached: true });
process.stdout.write(String(child.pid));
process.exit(0);
`;

describe('load process without its runner', () => {
  let folder: string | undefined;
  after(async () => {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });

  test('exits quietly when orphaned', async () => {
    folder = await mkdtemp(join(tmpdir(), 'signet-load-orphan-'));
    const stderrFile = join(folder, 'stderr.txt');
    const pid = Number(
      execFileSync(process.execPath, [
        '--input-type=module',
        '-e',
        ORPHANING_RUNNER,
        stderrFile,
        LOAD_PROCESS,
      ]),
    );
    assert.ok(pid > 0, `expected the load process's pid, got ${pid}`);

    await waitFor('the orphaned load process to exit', { timeoutMs: 30_000, intervalMs: 50 }, async () =>
      processRuns(pid) ? pending(`pid ${pid} still runs`) : done(undefined),
    );
    assert.equal(await readFile(stderrFile, 'utf8'), '');
  });
});
