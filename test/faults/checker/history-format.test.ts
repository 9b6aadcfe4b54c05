import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  HISTORY_FORMAT,
  HistoryFormatError,
  historyFromJson,
  historyToJson,
  readHistoryFile,
  validateHistory,
  writeHistoryFile,
} from '../../../cluster/faults/history.js';
import { generateHistory } from './generate-history.js';
import { at, cas, del, failed, get, history, put } from './operations.js';

const sample = history(
  put(at(0, 0, 10), 'a', 4),
  get(at(1, 5, 15), null),
  cas(at(2, 6, null), 'b', 4, null),
  failed(del(at(3, 7, 20), 4)),
  get(at(1, 30, 40), 'a', 4),
  cas(at(0, 31, 41), 'c', 4, 9),
  del(at(4, 50, 60)),
);

/** Returns the error `run` throws, failing the test when it is not a HistoryFormatError. */
function formatError(run: () => unknown): HistoryFormatError {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof HistoryFormatError, `expected a HistoryFormatError, got ${String(err)}`);
    assert.equal(err.code, 'HISTORY_INVALID');
    return err;
  }
  assert.fail('expected a HistoryFormatError, nothing was thrown');
}

function documentWith(change: (operations: Record<string, unknown>[]) => void): string {
  const document = JSON.parse(historyToJson(sample)) as { operations: Record<string, unknown>[] };
  change(document.operations);
  return JSON.stringify(document);
}

describe('history JSON', () => {
  test('round trip keeps every field', () => {
    assert.deepEqual(historyFromJson(historyToJson(sample)), sample);
  });

  test('unknown return time is null on disk', () => {
    const document = JSON.parse(historyToJson(sample)) as {
      format: string;
      operations: { returnNs: unknown }[];
    };
    assert.equal(document.format, HISTORY_FORMAT);
    assert.equal(document.operations[2]!.returnNs, null);
    assert.equal(historyFromJson(historyToJson(sample)).operations[2]!.returnNs, Number.POSITIVE_INFINITY);
  });

  test('generated history round trips', () => {
    const generated = generateHistory({
      seed: 3,
      operations: 300,
      keys: 3,
      processes: 5,
      unknownRate: 0.05,
      failRate: 0.05,
    });
    assert.deepEqual(historyFromJson(historyToJson(generated)), generated);
  });

  test('file write and read', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'signet-history-'));
    try {
      const file = join(folder, 'history.json');
      await writeHistoryFile(file, sample);
      assert.deepEqual(await readHistoryFile(file), sample);
      assert.ok((await readFile(file, 'utf8')).endsWith('\n'));
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('history validation', () => {
  const invalid: [string, string, string][] = [
    ['not JSON', '{', 'document'],
    ['wrong format', JSON.stringify({ format: 'x', version: 1, operations: [] }), 'format'],
    ['wrong version', JSON.stringify({ format: HISTORY_FORMAT, version: 2, operations: [] }), 'version'],
    ['negative time', documentWith((ops) => Object.assign(ops[0]!, { callNs: -1 })), 'operations[0].callNs'],
    [
      'fractional index',
      documentWith((ops) => Object.assign(ops[0]!, { output: { index: 1.5 } })),
      'operations[0].output.index',
    ],
    ['unknown kind', documentWith((ops) => Object.assign(ops[1]!, { kind: 'list' })), 'operations[1].kind'],
    [
      'null return of an ok operation',
      documentWith((ops) => Object.assign(ops[0]!, { returnNs: null })),
      'operations[0].returnNs',
    ],
    [
      'return before call',
      documentWith((ops) => Object.assign(ops[0]!, { returnNs: 0, callNs: 5 })),
      'operations[0].returnNs',
    ],
    [
      'ok without output',
      documentWith((ops) => Object.assign(ops[0]!, { output: null })),
      'operations[0].output',
    ],
    [
      'failed with output',
      documentWith((ops) => Object.assign(ops[3]!, { output: { succeeded: true } })),
      'operations[3].output',
    ],
    ['repeated id', documentWith((ops) => Object.assign(ops[1]!, { id: 0 })), 'operations[1].id'],
    [
      'rejected plain delete',
      documentWith((ops) => Object.assign(ops[6]!, { output: { succeeded: false } })),
      'operations[6].output.succeeded',
    ],
    [
      'overlapping calls of one process',
      documentWith((ops) => Object.assign(ops[1]!, { process: 0 })),
      'operation 1',
    ],
  ];
  for (const [name, text, field] of invalid) {
    test(name, () => {
      assert.equal(formatError(() => historyFromJson(text)).field, field);
    });
  }

  test('call after an unknown outcome in the same process', () => {
    const h = history(put(at(0, 0, null), 'a', 0), get(at(0, 100, 110), null));
    assert.equal(formatError(() => validateHistory(h)).field, 'operation 1');
  });
});
