import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Policy, type PolicyParseMode, PolicyParserError, parsePolicy } from '../../../src/acl/index.js';
import { AclResolver } from '../../../src/server/acl/acl-resolver.js';
import type { AsyncPolicyParser } from '../../../src/server/acl/parsed-policy-cache.js';
import type { Principal } from '../../../src/server/backend.js';
import { RequestError } from '../../../src/server/request-error.js';
import type { StateStore } from '../../../src/state/store.js';
import { applyOk, bootstrappedStore, entry } from '../../state/workload-fixtures.js';
import { capturingLogger, LEVEL, T0_MS } from '../keyring/support.js';
import { makePolicy, putPolicies, putTokens, secretId } from './support.js';

const AGENT_READ = 'agent { policy = "read" }';
const AGENT_WRITE = 'agent { policy = "write" }';

function token(n: number): Principal {
  return { kind: 'acl-token', secretId: secretId(n) };
}

/** A parser that records its calls and returns what `answer` returns, by default the synchronous parser's result. */
function recordingParser(answer: (rules: string, mode: PolicyParseMode) => Promise<Policy> = parseNow): {
  parse: AsyncPolicyParser;
  calls: string[];
} {
  const calls: string[] = [];
  const parse: AsyncPolicyParser = (rules, mode) => {
    calls.push(rules);
    return answer(rules, mode);
  };
  return { parse, calls };
}

async function parseNow(rules: string, mode: PolicyParseMode): Promise<Policy> {
  return parsePolicy(rules, mode);
}

function storeWithToken(rules: string): StateStore {
  const store = bootstrappedStore();
  putPolicies(store, { Name: 'ops', Rules: rules });
  putTokens(store, { Policies: ['ops'] });
  return store;
}

describe('AclResolver.prepare off the event loop', () => {
  test('resolve uses what prepare parsed', async () => {
    // The stub returns agent write for rules that grant agent read, so the ACL shows which parse won.
    const { parse, calls } = recordingParser(async (_rules, mode) => parsePolicy(AGENT_WRITE, mode));
    const store = storeWithToken(AGENT_READ);
    const acls = new AclResolver({ state: store, enabled: true, now: () => T0_MS, parseOffThread: parse });

    await acls.prepare(token(1));
    assert.deepEqual(calls, [AGENT_READ]);
    assert.equal(acls.resolve(token(1)).acl.agentWrite(), true);
  });

  test('stored policies parse in lenient mode', async () => {
    const modes: PolicyParseMode[] = [];
    const { parse } = recordingParser(async (rules, mode) => {
      modes.push(mode);
      return parsePolicy(rules, mode);
    });
    const acls = new AclResolver({
      state: storeWithToken(`${AGENT_READ}\nunknown_block { x = 1 }`),
      enabled: true,
      now: () => T0_MS,
      parseOffThread: parse,
    });

    await acls.prepare(token(1));
    assert.deepEqual(modes, ['lenient']);
    assert.equal(acls.resolve(token(1)).acl.agentRead(), true);
  });

  test('concurrent prepares share one parse', async () => {
    const { parse, calls } = recordingParser();
    const acls = new AclResolver({
      state: storeWithToken(AGENT_READ),
      enabled: true,
      now: () => T0_MS,
      parseOffThread: parse,
    });

    await Promise.all([acls.prepare(token(1)), acls.prepare(token(1)), acls.prepare(token(1))]);
    assert.equal(calls.length, 1);
    await acls.prepare(token(1));
    assert.equal(calls.length, 1);
  });

  test('policy changed during parse is parsed again', async () => {
    const store = storeWithToken(AGENT_READ);
    let changed = false;
    const { parse, calls } = recordingParser(async (rules, mode) => {
      if (!changed) {
        changed = true;
        applyOk(
          store,
          entry('acl-policy-upsert', { policies: [makePolicy({ Name: 'ops', Rules: AGENT_WRITE })] }),
        );
      }
      return parsePolicy(rules, mode);
    });
    const acls = new AclResolver({ state: store, enabled: true, now: () => T0_MS, parseOffThread: parse });

    await acls.prepare(token(1));
    assert.deepEqual(calls, [AGENT_READ, AGENT_WRITE]);
    // resolve parses nothing itself: a further parse would show in `calls`.
    assert.equal(acls.resolve(token(1)).acl.agentWrite(), true);
    assert.equal(calls.length, 2);
  });

  test('parser failure is 500 and not cached', async () => {
    let fail = true;
    const { parse, calls } = recordingParser(async (rules, mode) => {
      if (fail) throw new PolicyParserError('WORKER_CRASHED', 'the parser worker exited with code 1');
      return parsePolicy(rules, mode);
    });
    const { logger, lines } = capturingLogger();
    const acls = new AclResolver({
      state: storeWithToken(AGENT_READ),
      enabled: true,
      now: () => T0_MS,
      logger,
      parseOffThread: parse,
    });

    await assert.rejects(acls.prepare(token(1)), (err: unknown) => {
      assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
      assert.equal(err.status, 500);
      assert.match(err.message, /"ops"/);
      return true;
    });
    const errors = lines.filter((line) => line.level === LEVEL.error);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.policy, 'ops');
    assert.equal(errors[0]?.code, 'WORKER_CRASHED');

    fail = false;
    await acls.prepare(token(1));
    assert.equal(calls.length, 2);
    assert.equal(acls.resolve(token(1)).acl.agentRead(), true);
  });

  test('rules that fail are cached as 500', async () => {
    const { parse, calls } = recordingParser();
    const acls = new AclResolver({
      state: storeWithToken('namespace "default" {'),
      enabled: true,
      now: () => T0_MS,
      parseOffThread: parse,
    });

    await acls.prepare(token(1));
    await acls.prepare(token(1));
    assert.equal(calls.length, 1);
    assert.throws(
      () => acls.resolve(token(1)),
      (err: unknown) => err instanceof RequestError && err.status === 500 && /"ops"/.test(err.message),
    );
  });

  test('default parser thread resolves', async () => {
    const acls = new AclResolver({ state: storeWithToken(AGENT_WRITE), enabled: true, now: () => T0_MS });
    await acls.prepare(token(1));
    assert.equal(acls.resolve(token(1)).acl.agentWrite(), true);
  });
});
