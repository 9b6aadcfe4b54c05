import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeClusterKey, generateClusterKey } from '../../src/rpc/cluster-key.js';
import {
  answerChallenge,
  createChallenge,
  handshakeKey,
  verifyHello,
  verifyWelcome,
  type Welcome,
} from '../../src/rpc/handshake.js';

const key = handshakeKey(decodeClusterKey(generateClusterKey()));
const otherKey = handshakeKey(decodeClusterKey(generateClusterKey()));

describe('RPC handshake', () => {
  test('same key authenticates both sides', () => {
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 2);
    const welcome = verifyHello(key, challenge, hello);
    assert.equal(typeof welcome, 'object');
    assert.equal(verifyWelcome(key, challenge, hello, welcome), null);
  });

  test('dialer with another key is rejected', () => {
    const challenge = createChallenge();
    const result = verifyHello(key, challenge, answerChallenge(otherKey, challenge, 2));
    assert.equal(typeof result, 'string');
    assert.match(result as string, /server\.encrypt/);
  });

  test('acceptor with another key is rejected', () => {
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 2);
    // An impostor cannot verify the hello, so the best it can send is a proof of its own making.
    assert.equal(typeof verifyHello(otherKey, challenge, hello), 'string');
    const forged: Welcome = { type: 'welcome', v: 1, proof: randomBytes(32) };
    assert.match(verifyWelcome(key, challenge, hello, forged) ?? '', /does not know the cluster key/);
  });

  test('replayed hello fails a new challenge', () => {
    const recorded = answerChallenge(key, createChallenge(), 2);
    assert.equal(typeof verifyHello(key, createChallenge(), recorded), 'string');
  });

  test('hello for another node id fails', () => {
    const challenge = createChallenge();
    const hello = { ...answerChallenge(key, challenge, 2), nodeId: 3 };
    assert.equal(typeof verifyHello(key, challenge, hello), 'string');
  });

  test('reflected proof does not pass as a welcome', () => {
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 2);
    const reflected = { type: 'welcome', v: 1, proof: hello.proof };
    assert.notEqual(verifyWelcome(key, challenge, hello, reflected), null);
  });

  const malformed: [string, unknown][] = [
    ['null', null],
    ['wrong type', { type: 'welcome' }],
    ['wrong version', { type: 'hello', v: 9 }],
    ['bad node id', { type: 'hello', v: 1, nodeId: 0, nonce: new Uint8Array(32), proof: new Uint8Array(32) }],
    ['short nonce', { type: 'hello', v: 1, nodeId: 2, nonce: new Uint8Array(3), proof: new Uint8Array(32) }],
    ['proof not bytes', { type: 'hello', v: 1, nodeId: 2, nonce: new Uint8Array(32), proof: 'x' }],
    ['short proof', { type: 'hello', v: 1, nodeId: 2, nonce: new Uint8Array(32), proof: new Uint8Array(4) }],
  ];
  for (const [name, hello] of malformed) {
    test(`malformed hello: ${name}`, () => {
      const result = verifyHello(key, createChallenge(), hello);
      assert.equal(typeof result, 'string');
      assert.match(result as string, /^handshake failed/);
    });
  }
});

describe('cluster key', () => {
  test('generated key decodes to 32 bytes', () => {
    assert.equal(decodeClusterKey(generateClusterKey()).length, 32);
  });

  for (const [name, encoded] of [
    ['short', Buffer.alloc(16).toString('base64')],
    ['long', Buffer.alloc(33).toString('base64')],
    ['not base64', '%'.repeat(44)],
  ] as const) {
    test(`rejects ${name} key without echoing it`, () => {
      assert.throws(
        () => decodeClusterKey(encoded),
        (error: unknown) =>
          error instanceof Error &&
          /invalid cluster key/.test(error.message) &&
          !error.message.includes(encoded),
      );
    });
  }
});
