import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';
import {
  type Policy,
  PolicyError,
  type PolicyParseMode,
  PolicyParserError,
  type PolicyParserErrorCode,
  PolicyParserThread,
  parsePolicy,
  parsePolicyOffThread,
} from '../../src/acl/index.js';
import { MAX_ACL_RULES_BYTES } from '../../src/state/limits.js';
import { BIG_POLICY_HCL, BIG_POLICY_JSON } from './fixtures.js';
import { largePolicy } from './large-policy.js';
import { ERROR_CASES, UNKNOWN_AND_DUPLICATE_KEYS, UNKNOWN_INNER_KEY_CASES } from './policy-cases.js';

/** 'ts' when this file runs from source under tsx, 'js' when it runs from the compiled dist/. */
const EXTENSION = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const CRASHING_WORKER = new URL(`./support/crashing-parse-worker.${EXTENSION}`, import.meta.url);
const SMALL = 'namespace "default" { policy = "read" }';

/** Accepted rules from parse-policy.test.ts, one of each kind of block and expansion. */
const ACCEPTED: readonly string[] = [
  SMALL,
  BIG_POLICY_HCL,
  BIG_POLICY_JSON,
  UNKNOWN_AND_DUPLICATE_KEYS,
  'namespace "default" { capabilities = ["sentinel-override"] }',
  'namespace "register" { capabilities = ["host-volume-register"] }\nnamespace "write" { capabilities = ["host-volume-write"] }',
  'node_pool "default" { policy = "read", capabilities = ["write", "delete"] }',
  'node_pool "my_pool" { policy = "read" }',
  'host_volume "shared" { policy = "read" }',
  'plugin { policy = "list" }',
  'operator { policy = "read", capabilities = ["snapshot-save"] }',
  'namespace "dev" { variables { path "a/*" { capabilities = ["read", "write", "deny"] } } }',
  'namespace "x" { policy = "read", capabilities = ["alloc-node-exec"] }',
  'namespace "*" { policy = "read" }\nnamespace "prod-*" { policy = "deny" }',
  'agent { policy = "write" }\nagent { policy = "deny" }',
  '',
];

/** Every conformance input, in an order that puts an invalid escape before a valid policy. */
const INPUTS: readonly string[] = [
  ...ACCEPTED,
  ...ERROR_CASES.map((testCase) => testCase.rules),
  ...UNKNOWN_INNER_KEY_CASES.map(([rules]) => rules),
  'namespace "\\500" {}',
  SMALL,
];

type Outcome = { readonly policy: Policy } | { readonly error: PolicyError };

function parseSync(rules: string, mode: PolicyParseMode): Outcome {
  try {
    return { policy: parsePolicy(rules, mode) };
  } catch (err) {
    assert.ok(err instanceof PolicyError, `sync parser threw ${String(err)} for ${rules}`);
    return { error: err };
  }
}

async function parseAsync(parse: Promise<Policy>, rules: string): Promise<Outcome> {
  try {
    return { policy: await parse };
  } catch (err) {
    assert.ok(err instanceof PolicyError, `off-thread parser rejected with ${String(err)} for ${rules}`);
    return { error: err };
  }
}

function assertSameOutcome(actual: Outcome, expected: Outcome, rules: string): void {
  if ('policy' in expected) {
    assert.ok('policy' in actual, `off-thread parser rejected rules that parse: ${rules}`);
    assert.deepEqual(actual.policy, expected.policy, rules);
    return;
  }
  assert.ok('error' in actual, `off-thread parser accepted rules that fail: ${rules}`);
  assert.equal(actual.error.name, expected.error.name, rules);
  assert.equal(actual.error.code, expected.error.code, rules);
  assert.equal(actual.error.field, expected.error.field, rules);
  assert.equal(actual.error.value, expected.error.value, rules);
  assert.equal(actual.error.message, expected.error.message, rules);
}

function isParserError(code: PolicyParserErrorCode): (err: unknown) => boolean {
  return (err: unknown) => {
    assert.ok(err instanceof PolicyParserError, `expected a PolicyParserError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe('PolicyParserThread', () => {
  const parsers: PolicyParserThread[] = [];
  function parser(options: ConstructorParameters<typeof PolicyParserThread>[0] = {}): PolicyParserThread {
    const created = new PolicyParserThread(options);
    parsers.push(created);
    return created;
  }
  after(async () => {
    await Promise.all(parsers.map((created) => created.close()));
  });

  test('matches parsePolicy one by one', async () => {
    const thread = parser();
    for (const mode of ['strict', 'lenient'] as const) {
      for (const rules of INPUTS) {
        assertSameOutcome(await parseAsync(thread.parse(rules, mode), rules), parseSync(rules, mode), rules);
      }
    }
  });

  test('matches parsePolicy when queued together', async () => {
    // parseAsync handles each rejection at once, while the parses before it are still awaited.
    const requests = (['strict', 'lenient'] as const).flatMap((mode) =>
      INPUTS.map((rules) => ({ rules, mode, outcome: parseAsync(parsePolicyOffThread(rules, mode), rules) })),
    );
    for (const { rules, mode, outcome } of requests) {
      assertSameOutcome(await outcome, parseSync(rules, mode), rules);
    }
  });

  test('main thread runs during a 64 KiB parse', async () => {
    const thread = parser();
    await thread.parse(SMALL, 'strict'); // starts the worker outside the measured parse
    const rules = largePolicy(MAX_ACL_RULES_BYTES);
    assert.ok(Buffer.byteLength(rules) > MAX_ACL_RULES_BYTES - 200);

    // A timer rather than a setImmediate chain, which would keep a core busy during the parse.
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
    }, 1);
    const policy = await thread.parse(rules, 'strict');
    const ticksBeforeParsed = ticks;
    clearInterval(timer);

    assert.ok(ticksBeforeParsed > 0, 'no timer callback ran while the policy parsed');
    assert.equal(policy.namespaces.length, rules.split('namespace "').length - 1);
  });

  test('crashed worker is replaced', async () => {
    const thread = parser({ workerUrl: CRASHING_WORKER });
    const before = thread.parse(SMALL, 'strict');
    const exited = assert.rejects(thread.parse('# crash: exit', 'strict'), (err: unknown) => {
      isParserError('WORKER_CRASHED')(err);
      assert.match((err as Error).message, /exited with code 3/);
      return true;
    });
    const queued = thread.parse(SMALL, 'lenient');

    assert.deepEqual(await before, parsePolicy(SMALL, 'strict'));
    await exited;
    assert.deepEqual(await queued, parsePolicy(SMALL, 'lenient'));

    await assert.rejects(thread.parse('# crash: throw', 'strict'), (err: unknown) => {
      isParserError('WORKER_CRASHED')(err);
      assert.match((err as Error).message, /parser fixture crashed on purpose/);
      return true;
    });
    assert.deepEqual(await thread.parse(SMALL, 'strict'), parsePolicy(SMALL, 'strict'));
  });

  test('slow parse times out and worker restarts', async () => {
    const thread = parser({ timeoutMs: 50 });
    await thread.parse(SMALL, 'strict'); // starts the worker, which the parse timeout leaves out
    // About 4 times the 64 KiB limit: some 0.8 s of parsing, far past 50 ms on any machine.
    const slow = assert.rejects(
      thread.parse(largePolicy(4 * MAX_ACL_RULES_BYTES), 'strict'),
      isParserError('TIMED_OUT'),
    );
    const queued = thread.parse(SMALL, 'lenient');

    await slow;
    assert.deepEqual(await queued, parsePolicy(SMALL, 'lenient'));
  });

  test('worker that cannot load rejects all', async () => {
    const thread = parser({ workerUrl: new URL(`./support/missing-worker.${EXTENSION}`, import.meta.url) });
    const first = assert.rejects(thread.parse(SMALL, 'strict'), isParserError('WORKER_START_FAILED'));
    const second = assert.rejects(thread.parse(SMALL, 'lenient'), isParserError('WORKER_START_FAILED'));

    await first;
    await second;
  });

  test('close rejects waiting parses', async () => {
    const thread = parser();
    const waiting = [thread.parse(SMALL, 'strict'), thread.parse(SMALL, 'lenient')];
    const rejections = waiting.map((parse) => assert.rejects(parse, isParserError('CLOSED')));
    await thread.close();

    await Promise.all(rejections);
    await assert.rejects(thread.parse(SMALL, 'strict'), isParserError('CLOSED'));
  });

  test('worker does not keep a process alive', async () => {
    // The child parses once and then has nothing left to do, so it must exit on its own. Its
    // top-level await also checks that a parse in progress keeps it alive until the result arrives.
    const module = new URL(`../../src/acl/index.${EXTENSION}`, import.meta.url);
    const script =
      `const { parsePolicyOffThread } = await import(${JSON.stringify(module.href)});\n` +
      `const policy = await parsePolicyOffThread(${JSON.stringify(SMALL)}, 'strict');\n` +
      'console.log(policy.namespaces[0].label);\n';
    const loader = EXTENSION === 'ts' ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...loader, '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });

    const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
      child.on('exit', (code, killedBy) => resolve([code, killedBy]));
    });
    clearTimeout(deadline);

    assert.equal(signal, null, `the child did not exit within 20 s: ${stderr}`);
    assert.equal(exitCode, 0, stderr);
    assert.equal(stdout, 'default\n');
  });
});
