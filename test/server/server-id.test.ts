import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadOrCreateServerId, serverPaths } from '../../src/server/server-id.js';

describe('loadOrCreateServerId', async () => {
  const root = await mkdtemp(join(tmpdir(), 'signet-server-id-'));
  after(() => rm(root, { recursive: true, force: true }));

  test('creates an id once, owner-only, and returns the same id afterwards', async () => {
    const { idFile } = serverPaths(join(root, 'a'));
    const id = await loadOrCreateServerId(idFile);
    assert.ok(Number.isSafeInteger(id));
    assert.ok(id >= 1);
    assert.ok(id < 2 ** 48);
    assert.equal(await loadOrCreateServerId(idFile), id);
    assert.equal((await readFile(idFile, 'utf8')).trim(), String(id));
    assert.equal((await stat(idFile)).mode & 0o777, 0o600);
  });

  test('two data folders get different ids', async () => {
    const a = await loadOrCreateServerId(serverPaths(join(root, 'b')).idFile);
    const b = await loadOrCreateServerId(serverPaths(join(root, 'c')).idFile);
    assert.notEqual(a, b);
  });

  test('refuses a damaged id file and names it', async () => {
    const { idFile } = serverPaths(join(root, 'd'));
    await loadOrCreateServerId(idFile);
    for (const text of ['', 'abc', '0', '-5', '1.5', String(2 ** 48), '12 34']) {
      await writeFile(idFile, text);
      await assert.rejects(loadOrCreateServerId(idFile), (err: Error) => {
        assert.ok(err.message.includes(idFile), err.message);
        assert.match(err.message, /invalid server id/);
        return true;
      });
    }
  });
});
