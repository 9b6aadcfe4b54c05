import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loseUnsynced } from '../../../cluster/faults/faults/lose-unsynced.js';
import { HarnessError } from '../../../cluster/faults/harness-error.js';
import { shimBuildProblem } from '../../../cluster/faults/unsynced/build-shim.js';
import { SyncRecording } from '../../../cluster/faults/unsynced/sync-recording.js';
import type { ServerHandle } from '../../../cluster/launcher.js';

// Every test here compiles the shim, so none can run without gcc.
const problem = await shimBuildProblem();

// A stopped server as the rollback reads it: a name, a state and a data folder.
function stoppedServer(name: string, dataDir: string): ServerHandle {
  return { name, state: 'stopped', dataDir } as unknown as ServerHandle;
}

describe('SyncRecording.forget', { skip: problem ?? false }, () => {
  let root: string;
  let recording: SyncRecording;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-forget-'));
    recording = await SyncRecording.create(root);
  });

  after(async () => {
    await recording.close();
    await rm(root, { recursive: true, force: true });
  });

  test('emptied folder drops old syncs', async () => {
    const dataDir = join(root, 's1', 'data');
    const server = stoppedServer('s1', dataDir);
    await mkdir(join(dataDir, 'raft'), { recursive: true });
    const file = join(recording.root, 's1', 'data', 'raft', 'CURRENT');
    // The old incarnation synced 64 bytes of this file.
    await writeFile(recording.journalPath('s1'), `S\t64\t${file}\n`);

    await recording.forget(server);
    // The rejoined server writes the file again and dies before it syncs it.
    await writeFile(join(dataDir, 'raft', 'CURRENT'), 'x'.repeat(40));

    const summary = await recording.rollBack(server);
    assert.deepEqual(await readdir(join(dataDir, 'raft')), []);
    assert.equal(summary.deletedFiles, 1);
    assert.equal(summary.droppedBytes, 40);
  });

  test('rejects a running server', async () => {
    const server = { name: 's2', state: 'running', dataDir: root } as unknown as ServerHandle;
    await assert.rejects(recording.forget(server), /cannot forget the syncs of s2 while it is running/);
  });
});

describe('SyncRecording checks', { skip: problem ?? false }, () => {
  let root: string;
  let recording: SyncRecording;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-recording-'));
    recording = await SyncRecording.create(root);
  });

  after(async () => {
    await recording.close();
    await rm(root, { recursive: true, force: true });
  });

  test('requireLoaded names servers without journal', async () => {
    await writeFile(recording.journalPath('s1'), '');
    const servers = [stoppedServer('s1', root), stoppedServer('s2', root)];
    await assert.rejects(recording.requireLoaded(servers), /the sync shim is not loaded in s2: no journal/);
    await writeFile(recording.journalPath('s2'), '');
    await recording.requireLoaded(servers);
  });

  test('rejects a shim folder with a colon', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'signet-colon:'));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = parent;
    try {
      await assert.rejects(
        SyncRecording.create(root),
        /LD_PRELOAD cannot name a path with a colon or a space/,
      );
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    assert.deepEqual(await readdir(parent), []);
    await rm(parent, { recursive: true, force: true });
  });

  test('failed rollback ends the run', async () => {
    // A server that the shim never saw: the rollback has no journal to replay. Its kill and
    // restart do nothing, because only the harness's reaction to the failed rollback is tested.
    const restarts: string[] = [];
    const server = {
      name: 's9',
      state: 'stopped',
      dataDir: root,
      kill: async () => {},
      restart: async () => {
        restarts.push('s9');
      },
    } as unknown as ServerHandle;
    await assert.rejects(loseUnsynced(recording, [server], false), (err: unknown) => {
      assert.ok(err instanceof HarnessError);
      assert.match(err.message, /cannot roll back the unsynced writes of s9: .*no sync journal/);
      return true;
    });
    assert.deepEqual(restarts, ['s9']);
  });
});

describe('SyncRecording on a signal', { skip: problem ?? false }, () => {
  test('SIGINT still ends the process', async () => {
    const module = new URL('../../../cluster/faults/unsynced/sync-recording.ts', import.meta.url).href;
    // Before the launcher registers its own handler, the recording's is the only one.
    const script = `
      import { tmpdir } from 'node:os';
      const { SyncRecording } = await import(${JSON.stringify(module)});
      const recording = await SyncRecording.create(tmpdir());
      process.stdout.write(recording.folder);
      process.kill(process.pid, 'SIGINT');
      setTimeout(() => process.exit(3), 5000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let folder = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      folder += chunk;
    });
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    assert.equal(signal, 'SIGINT', `exit code ${code}`);
    assert.ok(folder.includes('signet-unsynced-'), `no folder printed: ${folder}`);
    assert.equal(existsSync(folder), false);
  });
});
