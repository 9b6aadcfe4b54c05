import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { type Command, decodeCommand, encodeCommand, validateCommand } from '../../src/state/commands.js';
import { CommandError } from '../../src/state/errors.js';

const plainPackr = new Packr({ useRecords: false });

const valid: Command[] = [
  {
    type: 'namespace-upsert',
    v: 1,
    namespace: { Name: 'prod-1', Description: 'Production', Meta: { team: 'ops' } },
  },
  { type: 'namespace-upsert', v: 1, namespace: { Name: 'a', Description: '', Meta: null } },
  {
    type: 'namespace-upsert',
    v: 1,
    namespace: { Name: 'x'.repeat(128), Description: 'é'.repeat(128), Meta: {} },
  },
  { type: 'namespace-delete', v: 1, name: 'prod-1' },
  {
    type: 'server-upsert',
    v: 1,
    server: { id: 2 ** 48 - 1, name: 's1', rpcAddr: '127.0.0.1:4647', httpAddr: '[::1]:4646' },
  },
  { type: 'server-delete', v: 1, id: 183274923 },
];

/** Returns the CommandError that `run` throws, failing the test when it throws anything else. */
function commandErrorOf(run: () => unknown): CommandError {
  try {
    run();
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  assert.fail('expected a CommandError');
}

function upsert(namespace: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'namespace-upsert',
    v: 1,
    namespace: { Name: 'ok', Description: '', Meta: null, ...namespace },
  };
}

function serverUpsert(server: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'server-upsert',
    v: 1,
    server: { id: 1, name: 's1', rpcAddr: '127.0.0.1:4647', httpAddr: '127.0.0.1:4646', ...server },
  };
}

describe('commands', () => {
  for (const command of valid) {
    test(`${command.type} survives a round trip`, () => {
      assert.deepEqual(decodeCommand(encodeCommand(command)), command);
    });
  }

  test('validation returns a copy', () => {
    const input = {
      type: 'namespace-upsert',
      v: 1,
      namespace: { Name: 'a', Description: '', Meta: { k: 'v' } },
    };
    const command = validateCommand(input);
    assert.deepEqual(command, input);
    assert.notEqual(command, input);
    assert.notEqual((command as { namespace: object }).namespace, input.namespace);
    input.namespace.Meta.k = 'changed';
    assert.deepEqual((command as { namespace: { Meta: object } }).namespace.Meta, { k: 'v' });
  });

  // [case, input, expected code, expected field]
  const rejected: [string, unknown, CommandError['code'], string][] = [
    ['not a map', [1, 2], 'MALFORMED', 'command'],
    ['null', null, 'MALFORMED', 'command'],
    ['a Date', new Date(0), 'MALFORMED', 'command'],
    ['missing type', { v: 1, name: 'a' }, 'INVALID_FIELD', 'type'],
    ['numeric type', { type: 3, v: 1 }, 'INVALID_FIELD', 'type'],
    ['unknown type', { type: 'job-dispatch', v: 1 }, 'UNKNOWN_TYPE', 'type'],
    ['inherited type name', { type: 'constructor', v: 1 }, 'UNKNOWN_TYPE', 'type'],
    ['unknown version', { type: 'namespace-delete', v: 2, name: 'a' }, 'UNKNOWN_VERSION', 'v'],
    ['missing version', { type: 'namespace-delete', name: 'a' }, 'UNKNOWN_VERSION', 'v'],
    ['string version', { type: 'namespace-delete', v: '1', name: 'a' }, 'UNKNOWN_VERSION', 'v'],
    ['unknown field', { type: 'namespace-delete', v: 1, name: 'a', force: true }, 'INVALID_FIELD', 'force'],
    ['missing field', { type: 'namespace-delete', v: 1 }, 'INVALID_FIELD', 'name'],
    ['empty name', upsert({ Name: '' }), 'INVALID_FIELD', 'namespace.Name'],
    ['name with a space', upsert({ Name: 'a b' }), 'INVALID_FIELD', 'namespace.Name'],
    ['name with an underscore', upsert({ Name: 'a_b' }), 'INVALID_FIELD', 'namespace.Name'],
    ['name of 129 characters', upsert({ Name: 'x'.repeat(129) }), 'INVALID_FIELD', 'namespace.Name'],
    ['name with a newline', upsert({ Name: 'a\n' }), 'INVALID_FIELD', 'namespace.Name'],
    ['delete with a bad name', { type: 'namespace-delete', v: 1, name: '../x' }, 'INVALID_FIELD', 'name'],
    [
      'description of 257 bytes',
      upsert({ Description: 'd'.repeat(257) }),
      'INVALID_FIELD',
      'namespace.Description',
    ],
    // 86 euro signs are 86 characters but 258 UTF-8 bytes; Nomad counts bytes.
    [
      'description of 258 UTF-8 bytes',
      upsert({ Description: '€'.repeat(86) }),
      'INVALID_FIELD',
      'namespace.Description',
    ],
    ['lone surrogate', upsert({ Description: 'a\ud800' }), 'INVALID_FIELD', 'namespace.Description'],
    [
      'missing Meta',
      { type: 'namespace-upsert', v: 1, namespace: { Name: 'a', Description: '' } },
      'INVALID_FIELD',
      'namespace.Meta',
    ],
    ['Meta as an array', upsert({ Meta: ['a'] }), 'INVALID_FIELD', 'namespace.Meta'],
    ['Meta with a number', upsert({ Meta: { port: 80 } }), 'INVALID_FIELD', 'namespace.Meta.port'],
    [
      'Meta with __proto__',
      upsert({ Meta: JSON.parse('{"__proto__": "x"}') }),
      'INVALID_FIELD',
      'namespace.Meta',
    ],
    ['extra namespace field', upsert({ Quota: 'q' }), 'INVALID_FIELD', 'namespace.Quota'],
    ['server id 0', serverUpsert({ id: 0 }), 'INVALID_FIELD', 'server.id'],
    ['server id 2^48', serverUpsert({ id: 2 ** 48 }), 'INVALID_FIELD', 'server.id'],
    ['fractional server id', serverUpsert({ id: 1.5 }), 'INVALID_FIELD', 'server.id'],
    ['BigInt server id', serverUpsert({ id: 5n }), 'INVALID_FIELD', 'server.id'],
    ['empty server name', serverUpsert({ name: '' }), 'INVALID_FIELD', 'server.name'],
    ['address without port', serverUpsert({ rpcAddr: '127.0.0.1' }), 'INVALID_FIELD', 'server.rpcAddr'],
    ['address with port 0', serverUpsert({ rpcAddr: '127.0.0.1:0' }), 'INVALID_FIELD', 'server.rpcAddr'],
    ['address with port 65536', serverUpsert({ httpAddr: 'h:65536' }), 'INVALID_FIELD', 'server.httpAddr'],
    ['bare IPv6 address', serverUpsert({ httpAddr: '::1:4646' }), 'INVALID_FIELD', 'server.httpAddr'],
    ['server delete without id', { type: 'server-delete', v: 1, id: null }, 'INVALID_FIELD', 'id'],
  ];
  for (const [name, input, code, field] of rejected) {
    test(`rejects ${name}`, () => {
      const err = commandErrorOf(() => validateCommand(input));
      assert.equal(err.code, code);
      assert.equal(err.field, field);
    });
  }

  test('decoding runs the same checks', () => {
    const err = commandErrorOf(() => decodeCommand(plainPackr.pack(upsert({ Name: 'a b' }))));
    assert.equal(err.code, 'INVALID_FIELD');
    assert.equal(err.field, 'namespace.Name');
  });

  test('encoding rejects an invalid command', () => {
    const command = { type: 'namespace-delete', v: 1, name: 'a b' } as Command;
    assert.equal(commandErrorOf(() => encodeCommand(command)).field, 'name');
  });

  test('uint64 integers stay rejected', () => {
    // 0xcf is MessagePack's uint64; msgpackr decodes it as a BigInt, never as a rounded number.
    const withId = Buffer.concat([
      Buffer.from([0x83]), // a map of three entries
      plainPackr.pack('type'),
      plainPackr.pack('server-delete'),
      plainPackr.pack('v'),
      plainPackr.pack(1),
      plainPackr.pack('id'),
      Buffer.from([0xcf, 0, 0, 0, 0, 0, 0, 0, 5]),
    ]);
    const err = commandErrorOf(() => decodeCommand(withId));
    assert.equal(err.field, 'id');
  });

  test('truncated bytes are malformed', () => {
    const bytes = encodeCommand(valid[0]!);
    const err = commandErrorOf(() => decodeCommand(bytes.subarray(0, bytes.length - 3)));
    assert.equal(err.code, 'MALFORMED');
    assert.equal(err.field, 'command');
  });

  test('trailing bytes are malformed', () => {
    const bytes = Buffer.concat([encodeCommand(valid[3]!), Buffer.from([0])]);
    assert.equal(commandErrorOf(() => decodeCommand(bytes)).code, 'MALFORMED');
  });

  test('empty input is malformed', () => {
    assert.equal(commandErrorOf(() => decodeCommand(new Uint8Array(0))).code, 'MALFORMED');
  });
});

describe('command fuzzing', () => {
  /** Runs `decode` and fails on any outcome other than a command or a CommandError with a field. */
  function decodesOrRejects(decode: () => Command): void {
    try {
      decode();
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      assert.ok(err.field.length > 0);
    }
  }

  test('random bytes throw only CommandError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => decodesOrRejects(() => decodeCommand(bytes))),
      { seed: 20261205, numRuns: 20_000 },
    );
  });

  test('random MessagePack values throw only CommandError', () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withTypedArray: true, withMap: true }),
        (value) => {
          let bytes: Uint8Array;
          try {
            bytes = plainPackr.pack(value);
          } catch {
            return; // msgpackr cannot encode every JavaScript value; those never reach the log
          }
          decodesOrRejects(() => decodeCommand(bytes));
          decodesOrRejects(() => validateCommand(value));
        },
      ),
      { seed: 20261206, numRuns: 5_000 },
    );
  });

  const fieldValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
    fc.anything(),
  );
  const nearlyValid = fc.record(
    {
      type: fc.constantFrom(
        'namespace-upsert',
        'namespace-delete',
        'server-upsert',
        'server-delete',
        'other',
      ),
      v: fc.oneof(fc.constant(1), fc.integer(), fc.string()),
      name: fieldValue,
      id: fieldValue,
      namespace: fc.record(
        { Name: fieldValue, Description: fieldValue, Meta: fieldValue, Quota: fieldValue },
        { requiredKeys: [] },
      ),
      server: fc.record(
        { id: fieldValue, name: fieldValue, rpcAddr: fieldValue, httpAddr: fieldValue },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['type'] },
  );

  test('nearly valid commands throw only CommandError', () => {
    fc.assert(
      fc.property(nearlyValid, (value) => {
        decodesOrRejects(() => decodeCommand(plainPackr.pack(value)));
        decodesOrRejects(() => validateCommand(value));
      }),
      { seed: 20261207, numRuns: 10_000 },
    );
  });

  test('mutated encodings throw only CommandError', () => {
    const encoded = valid.map((command) => encodeCommand(command));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: encoded.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (which, edits) => {
          const bytes = Buffer.from(encoded[which]!);
          for (const [position, byte] of edits) bytes[position % bytes.length] = byte;
          decodesOrRejects(() => decodeCommand(bytes));
        },
      ),
      { seed: 20261208, numRuns: 20_000 },
    );
  });
});
