import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rollBackToSynced } from '../../../cluster/faults/unsynced/rollback.js';
import { parseJournal, replayJournal } from '../../../cluster/faults/unsynced/sync-journal.js';

/** Replays journal `lines` (without their newlines) and returns the synced sizes as a plain object. */
function replay(...lines: string[]): Record<string, number> {
  const records = parseJournal(lines.map((line) => `${line}\n`).join(''), 'test');
  return Object.fromEntries(replayJournal(records));
}

describe('sync journal replay', () => {
  test('latest sync sets the size', () => {
    assert.deepEqual(replay('S\t5\t/d/a', 'S\t9\t/d/a', 'S\t3\t/d/b'), { '/d/a': 9, '/d/b': 3 });
  });

  test('rename moves the size', () => {
    assert.deepEqual(replay('S\t5\t/d/a.tmp', 'R\t/d/a.tmp\t/d/a'), { '/d/a': 5 });
  });

  test('rename over a synced file replaces it', () => {
    assert.deepEqual(replay('S\t7\t/d/CURRENT', 'S\t2\t/d/x.tmp', 'R\t/d/x.tmp\t/d/CURRENT'), {
      '/d/CURRENT': 2,
    });
  });

  test('rename of an unsynced file drops the target', () => {
    assert.deepEqual(replay('S\t7\t/d/a', 'R\t/d/new\t/d/a'), {});
  });

  test('folder rename carries its files', () => {
    assert.deepEqual(replay('S\t1\t/d/x/a', 'S\t2\t/d/x/sub/b', 'S\t3\t/d/xy', 'R\t/d/x\t/d/z'), {
      '/d/z/a': 1,
      '/d/z/sub/b': 2,
      '/d/xy': 3,
    });
  });

  test('exchange swaps sizes', () => {
    assert.deepEqual(replay('S\t1\t/d/a', 'S\t2\t/d/b', 'X\t/d/a\t/d/b'), { '/d/a': 2, '/d/b': 1 });
  });

  test('unlink drops the path', () => {
    assert.deepEqual(replay('S\t1\t/d/a', 'S\t2\t/d/ab', 'U\t/d/a'), { '/d/ab': 2 });
  });

  test('sync after unlink counts again', () => {
    assert.deepEqual(replay('S\t1\t/d/a', 'U\t/d/a', 'S\t4\t/d/a'), { '/d/a': 4 });
  });

  test('torn last line is left out', () => {
    const records = parseJournal('S\t1\t/d/a\nS\t9\t/d/', 'test');
    assert.deepEqual(records, [{ kind: 'sync', size: 1, path: '/d/a' }]);
  });

  const invalid: [string, string, RegExp][] = [
    ['unknown kind', 'Q\t/d/a', /expected a record of kind S, R, X or U/],
    ['relative path', 'S\t1\td/a', /expected an absolute path/],
    ['size not a number', 'S\tten\t/d/a', /expected the size as a whole number/],
    ['negative size', 'S\t-1\t/d/a', /expected the size as a whole number/],
    ['rename missing target', 'R\t/d/a', /expected R, source path and target path/],
    ['tab in a path', 'U\t/d/a\tb', /expected U and a path/],
  ];
  for (const [name, line, message] of invalid) {
    test(`rejects ${name}`, () => {
      assert.throws(
        () => parseJournal(`S\t1\t/d/ok\n${line}\n`, 'test'),
        (err: Error) => {
          assert.match(err.message, message);
          assert.match(err.message, /test:2/);
          return true;
        },
      );
    });
  }
});

describe('rollback to synced sizes', () => {
  let folder = '';
  before(async () => {
    folder = await realpath(await mkdtemp(join(tmpdir(), 'signet-rollback-test-')));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  test('truncates, deletes and keeps', async () => {
    const root = join(folder, 'data');
    await mkdir(join(root, 'sub', 'empty'), { recursive: true });
    await writeFile(join(root, 'log'), 'synced-part+unsynced-tail');
    await writeFile(join(root, 'whole'), 'all synced');
    await writeFile(join(root, 'sub', 'never'), 'never synced');
    await writeFile(join(root, 'sub', 'shorter'), 'abc');
    await symlink('whole', join(root, 'link'));
    const synced = new Map([
      [join(root, 'log'), 'synced-part'.length],
      [join(root, 'whole'), 'all synced'.length],
      // Synced at a larger size, then cut by the program itself: nothing to drop.
      [join(root, 'sub', 'shorter'), 10],
      [join(folder, 'outside'), 4],
    ]);

    const summary = await rollBackToSynced(root, synced);

    assert.deepEqual(summary, {
      truncatedFiles: 1,
      deletedFiles: 1,
      droppedBytes: '+unsynced-tail'.length + 'never synced'.length,
    });
    assert.equal(await readFile(join(root, 'log'), 'utf8'), 'synced-part');
    assert.equal(await readFile(join(root, 'whole'), 'utf8'), 'all synced');
    assert.equal(await readFile(join(root, 'sub', 'shorter'), 'utf8'), 'abc');
    assert.deepEqual((await readdir(join(root, 'sub'))).sort(), ['empty', 'shorter']);
    assert.deepEqual((await readdir(root)).sort(), ['link', 'log', 'sub', 'whole']);
  });
});
