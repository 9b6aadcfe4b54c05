import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/raft/messages.js';
import { validateMessage } from '../../src/raft/validate-message.js';

const header = { v: PROTOCOL_VERSION, from: 1, to: 2, term: 3 };
const append = { ...header, type: 'append-request', prevIndex: 4, prevTerm: 2, commit: 4 };

describe('validateMessage', () => {
  const valid: [string, unknown][] = [
    ['heartbeat', { ...header, type: 'heartbeat-request', commit: 0, readRound: 0 }],
    ['empty append', { ...append, entries: [] }],
    [
      'append with every entry kind',
      {
        ...append,
        entries: [
          { kind: 'noop', index: 5, term: 2 },
          { kind: 'command', index: 6, term: 3, data: new Uint8Array([1]) },
          { kind: 'config', index: 7, term: 3, membership: { voters: [1, 2], learners: [], removed: [4] } },
        ],
      },
    ],
    ['timeout-now', { ...header, type: 'timeout-now' }],
  ];
  for (const [name, message] of valid) {
    test(`accepts ${name}`, () => {
      assert.equal(validateMessage(message), null);
    });
  }

  const invalid: [string, unknown, RegExp][] = [
    ['null', null, /not an object/],
    ['unknown type', { ...header, type: 'gossip' }, /unknown message type "gossip"/],
    ['negative term', { ...header, term: -1, type: 'timeout-now' }, /term=-1/],
    ['fractional index', { ...header, type: 'read-index-response', requestId: 1, index: 1.5 }, /index=1.5/],
    ['string boolean', { ...header, type: 'vote-response', preVote: 'yes', granted: true }, /preVote="yes"/],
    ['entries not an array', { ...append, entries: 'x' }, /entries is not an array/],
    [
      'gap in entries',
      { ...append, entries: [{ kind: 'noop', index: 6, term: 2 }] },
      /index 6 does not follow 4/,
    ],
    [
      'entry newer than message',
      { ...append, entries: [{ kind: 'noop', index: 5, term: 9 }] },
      /term 9, outside \[2, 3\]/,
    ],
    [
      'entry older than prevTerm',
      { ...append, entries: [{ kind: 'noop', index: 5, term: 1 }] },
      /term 1, outside/,
    ],
    [
      'command without bytes',
      { ...append, entries: [{ kind: 'command', index: 5, term: 3, data: 'x' }] },
      /byte array/,
    ],
    [
      'membership with a bad id',
      {
        ...append,
        entries: [
          { kind: 'config', index: 5, term: 3, membership: { voters: [0], learners: [], removed: [] } },
        ],
      },
      /voters is not a list of node ids/,
    ],
    [
      'snapshot without data',
      {
        ...header,
        type: 'snapshot-request',
        offset: 0,
        done: true,
        meta: { index: 1, term: 1, membership: {} },
      },
      /data is not a byte array/,
    ],
  ];
  for (const [name, message, pattern] of invalid) {
    test(`rejects ${name}`, () => {
      const problem = validateMessage(message);
      assert.notEqual(problem, null);
      assert.match(problem!, pattern);
    });
  }
});
