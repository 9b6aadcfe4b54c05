import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TaskStartContext } from '../../src/client/drivers/driver.js';
import { MockDriver } from '../../src/client/drivers/mock.js';
import { makeContext, makeDataDir, makeTask, removeDataDir } from './driver-support.js';

/** Resolves to 'pending' when `promise` has not settled within `ms`. */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  const result = await Promise.race([promise, timeout]);
  clearTimeout(timer);
  return result;
}

describe('mock driver', () => {
  let dataDir: string;
  let context: TaskStartContext;
  const driver = new MockDriver();

  before(async () => {
    dataDir = await makeDataDir();
    context = await makeContext(dataDir, 'web');
  });
  after(async () => {
    await removeDataDir(dataDir);
  });

  test('run_for then exit_code', async () => {
    const startedAt = Date.now();
    const handle = await driver.start(makeTask('mock', { run_for: '50ms', exit_code: 3 }), context);
    assert.deepEqual(await handle.wait(), { exitCode: 3, signal: null });
    assert.ok(Date.now() - startedAt >= 45);
  });

  test('run_for "0" and missing run until stopped', async () => {
    for (const config of [{ run_for: '0' }, {}]) {
      const handle = await driver.start(makeTask('mock', config), context);
      assert.equal(await settledWithin(handle.wait(), 50), 'pending');
      await handle.stop(1000);
      assert.deepEqual(await handle.wait(), { exitCode: 130, signal: 'SIGINT' });
    }
  });

  test('stop ends a running task with the signal', async () => {
    const handle = await driver.start(makeTask('mock', { run_for: '1h' }), context);
    await handle.stop(1000, 'SIGTERM');
    assert.deepEqual(await handle.wait(), { exitCode: 143, signal: 'SIGTERM' });
  });

  test('start_error fails the start with its message', async () => {
    await assert.rejects(driver.start(makeTask('mock', { start_error: 'no such image' }), context), {
      name: 'DriverError',
      code: 'START_FAILED',
      message: 'no such image',
    });
  });

  test('bad config names the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ run_for: '10 seconds' }, 'run_for'],
      [{ run_for: 10 }, 'run_for'],
      [{ run_for: '-1s' }, 'run_for'],
      [{ exit_code: 'one' }, 'exit_code'],
      [{ exit_code: 256 }, 'exit_code'],
      [{ start_error: false }, 'start_error'],
      [{ runfor: '1s' }, 'runfor'],
    ];
    for (const [config, field] of cases) {
      await assert.rejects(driver.start(makeTask('mock', config), context), {
        code: 'INVALID_CONFIG',
        field,
      });
    }
  });

  test('recover re-arms the time left', async () => {
    let now = 1_000_000;
    const first = new MockDriver({ now: () => now });
    const handle = await first.start(makeTask('mock', { run_for: '10s', exit_code: 4 }), context);
    const saved = JSON.parse(JSON.stringify(handle.state()));
    await handle.stop(0);

    now += 9_950;
    const restarted = new MockDriver({ now: () => now });
    const recovered = await restarted.recover(saved);
    assert.ok(recovered !== null);
    assert.deepEqual(recovered.state(), saved);
    assert.deepEqual(await settledWithin(recovered.wait(), 2000), { exitCode: 4, signal: null });
  });

  test('recover after run_for ended exits at once', async () => {
    const handle = await new MockDriver({ now: () => 0 }).start(
      makeTask('mock', { run_for: '1s', exit_code: 2 }),
      context,
    );
    const saved = handle.state();
    await handle.stop(0);
    const recovered = await new MockDriver({ now: () => 5000 }).recover(saved);
    assert.ok(recovered !== null);
    assert.deepEqual(await settledWithin(recovered.wait(), 100), { exitCode: 2, signal: null });
  });

  test('recover of a malformed handle is an INVALID_HANDLE error', async () => {
    await assert.rejects(driver.recover({ driver: 'raw_exec', version: 1, data: {} }), {
      code: 'INVALID_HANDLE',
    });
    await assert.rejects(
      driver.recover({ driver: 'mock', version: 1, data: { startedAtMs: 'x', runForMs: 0, exitCode: 0 } }),
      { code: 'INVALID_HANDLE' },
    );
  });
});
