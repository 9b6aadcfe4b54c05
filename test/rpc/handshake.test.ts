import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { decodeClusterKey, generateClusterKey } from '../../src/rpc/cluster-key.js';
import {
  answerChallenge,
  checkChallenge,
  createChallenge,
  HANDSHAKE_VERSION,
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
    assert.equal(checkChallenge(challenge), null);
    const hello = answerChallenge(key, challenge, 2);
    const welcome = verifyHello(key, challenge, hello, 7);
    assert.equal(typeof welcome, 'object');
    const accepted = verifyWelcome(key, challenge, hello, welcome);
    assert.equal(typeof accepted, 'object');
    assert.equal((accepted as Welcome).nodeId, 7);
  });

  test('dialer with another key is rejected', () => {
    const challenge = createChallenge();
    const result = verifyHello(key, challenge, answerChallenge(otherKey, challenge, 2), 7);
    assert.equal(typeof result, 'string');
    assert.match(result as string, /server\.encrypt/);
  });

  test('acceptor with another key is rejected', () => {
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 2);
    // An impostor cannot verify the hello, so the best it can send is a proof of its own making.
    assert.equal(typeof verifyHello(otherKey, challenge, hello, 7), 'string');
    const forged: Welcome = { type: 'welcome', v: HANDSHAKE_VERSION, nodeId: 7, proof: randomBytes(32) };
    assert.match(String(verifyWelcome(key, challenge, hello, forged)), /does not know the cluster key/);
  });

  test('welcome for another acceptor id fails', () => {
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 2);
    const welcome = verifyHello(key, challenge, hello, 7) as Welcome;
    const altered = { ...welcome, nodeId: 8 };
    assert.equal(typeof verifyWelcome(key, challenge, hello, altered), 'string');
  });

  test('ids with the same decimal digits differ', () => {
    // Dialer 1 reaching acceptor 23 must not yield the proof of dialer 12 reaching acceptor 3.
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 1);
    const welcome = verifyHello(key, challenge, hello, 23) as Welcome;
    const shifted = { ...hello, nodeId: 12 };
    const forged = { ...welcome, nodeId: 3 };
    assert.equal(typeof verifyWelcome(key, challenge, shifted, forged), 'string');
  });

  test('replayed hello fails a new challenge', () => {
    const recorded = answerChallenge(key, createChallenge(), 2);
    assert.equal(typeof verifyHello(key, createChallenge(), recorded, 7), 'string');
  });

  test('hello for another node id fails', () => {
    const challenge = createChallenge();
    const hello = { ...answerChallenge(key, challenge, 2), nodeId: 3 };
    assert.equal(typeof verifyHello(key, challenge, hello, 7), 'string');
  });

  test('reflected proof does not pass as a welcome', () => {
    const challenge = createChallenge();
    const hello = answerChallenge(key, challenge, 2);
    const reflected = { type: 'welcome', v: HANDSHAKE_VERSION, nodeId: 7, proof: hello.proof };
    assert.equal(typeof verifyWelcome(key, challenge, hello, reflected), 'string');
  });

  const v = HANDSHAKE_VERSION;
  const malformed: [string, unknown][] = [
    ['null', null],
    ['wrong type', { type: 'welcome' }],
    ['wrong version', { type: 'hello', v: 9 }],
    ['bad node id', { type: 'hello', v, nodeId: 0, nonce: new Uint8Array(32), proof: new Uint8Array(32) }],
    ['short nonce', { type: 'hello', v, nodeId: 2, nonce: new Uint8Array(3), proof: new Uint8Array(32) }],
    ['proof not bytes', { type: 'hello', v, nodeId: 2, nonce: new Uint8Array(32), proof: 'x' }],
    ['short proof', { type: 'hello', v, nodeId: 2, nonce: new Uint8Array(32), proof: new Uint8Array(4) }],
  ];
  for (const [name, hello] of malformed) {
    test(`malformed hello: ${name}`, () => {
      const result = verifyHello(key, createChallenge(), hello, 7);
      assert.equal(typeof result, 'string');
      assert.match(result as string, /^handshake failed/);
    });
  }

  const malformedWelcomes: [string, unknown][] = [
    ['null', null],
    ['old version', { type: 'welcome', v: 1, nodeId: 7, proof: new Uint8Array(32) }],
    ['no node id', { type: 'welcome', v, proof: new Uint8Array(32) }],
    ['fractional node id', { type: 'welcome', v, nodeId: 1.5, proof: new Uint8Array(32) }],
    ['proof not bytes', { type: 'welcome', v, nodeId: 7, proof: 'x' }],
  ];
  for (const [name, welcome] of malformedWelcomes) {
    test(`malformed welcome: ${name}`, () => {
      const challenge = createChallenge();
      const result = verifyWelcome(key, challenge, answerChallenge(key, challenge, 2), welcome);
      assert.equal(typeof result, 'string');
      assert.match(result as string, /^handshake failed/);
    });
  }

  const malformedChallenges: [string, unknown][] = [
    ['null', null],
    ['hello in its place', { type: 'hello', v, nonce: new Uint8Array(32) }],
    ['old version', { type: 'challenge', v: 1, nonce: new Uint8Array(32) }],
    ['short nonce', { type: 'challenge', v, nonce: new Uint8Array(31) }],
  ];
  for (const [name, challenge] of malformedChallenges) {
    test(`malformed challenge: ${name}`, () => {
      assert.match(checkChallenge(challenge) ?? '', /^handshake failed/);
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
