import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FoundingPromise } from '../../src/server/founding-promise.js';

describe('FoundingPromise', async () => {
  const root = await mkdtemp(join(tmpdir(), 'signet-founding-'));
  after(() => rm(root, { recursive: true, force: true }));

  test('promises one founder only, and keeps the promise across a restart', async () => {
    const file = join(root, 'a', 'founding-promise');
    const promise = await FoundingPromise.load(file);
    assert.equal(promise.founder, null);
    assert.equal(await promise.give(7), true);
    assert.equal(await promise.give(7), true, 'the same founder may ask again');
    assert.equal(await promise.give(3), false, 'a second founder is refused, even a lower id');
    const reloaded = await FoundingPromise.load(file);
    assert.equal(reloaded.founder, 7);
    assert.equal(await reloaded.give(3), false);
  });

  test('concurrent requests from two founders: exactly one wins, on disk as in memory', async () => {
    const file = join(root, 'b', 'founding-promise');
    const promise = await FoundingPromise.load(file);
    const [first, second] = await Promise.all([promise.give(11), promise.give(12)]);
    assert.notEqual(first, second);
    const winner = first ? 11 : 12;
    assert.equal(promise.founder, winner);
    assert.equal((await readFile(file, 'utf8')).trim(), String(winner));
  });

  test('refuses a damaged promise file and names it', async () => {
    const file = join(root, 'c-founding-promise');
    await writeFile(file, 'not an id');
    await assert.rejects(FoundingPromise.load(file), (err: Error) => err.message.includes(file));
  });
});
