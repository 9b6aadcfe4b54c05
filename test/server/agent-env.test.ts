import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readConfigInputs } from '../../src/cli/agent-main.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { AgentConfigError, resolveAgentConfig } from '../../src/server/agent-config.js';
import { agentEnvInput, CLUSTER_KEY_ENV } from '../../src/server/agent-env.js';

const run = promisify(execFile);

function configError(fn: () => unknown): AgentConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AgentConfigError, `expected AgentConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an AgentConfigError');
}

describe('agentEnvInput', () => {
  test('SIGNET_ENCRYPT sets server.encrypt', () => {
    const key = generateClusterKey();
    assert.deepEqual(agentEnvInput({ [CLUSTER_KEY_ENV]: key }), { server: { encrypt: key } });
  });

  test('unset variable sets nothing', () => {
    assert.deepEqual(agentEnvInput({}), {});
  });

  test('NOMAD_ENCRYPT is not read', () => {
    assert.deepEqual(agentEnvInput({ NOMAD_ENCRYPT: generateClusterKey() }), {});
  });

  test('empty value is rejected', () => {
    const error = configError(() => agentEnvInput({ [CLUSTER_KEY_ENV]: '' }));
    assert.equal(error.field, 'server.encrypt');
    assert.ok(error.message.includes(CLUSTER_KEY_ENV), error.message);
  });

  test('malformed key is rejected without echoing it', () => {
    const bad = 'c2VjcmV0LWtleS10aGF0LWlzLXRvby1zaG9ydA==';
    const error = configError(() => agentEnvInput({ [CLUSTER_KEY_ENV]: bad }));
    assert.equal(error.field, 'server.encrypt');
    assert.ok(error.message.includes(CLUSTER_KEY_ENV), error.message);
    assert.ok(!error.message.includes(bad), error.message);
  });
});

describe('readConfigInputs with SIGNET_ENCRYPT', async () => {
  const root = await mkdtemp(join(tmpdir(), 'signet-agent-env-'));
  after(() => rm(root, { recursive: true, force: true }));
  const fileKey = generateClusterKey();
  const envKey = generateClusterKey();
  const flagKey = generateClusterKey();
  const file = join(root, 'server.hcl');
  await writeFile(
    file,
    `data_dir = "${join(root, 'data')}"\nserver {\n  enabled = true\n  encrypt = "${fileKey}"\n}\n`,
  );

  test('environment wins over the file', async () => {
    const inputs = await readConfigInputs({ config: [file] }, { [CLUSTER_KEY_ENV]: envKey });
    assert.equal(resolveAgentConfig(inputs).server.encrypt, envKey);
  });

  test('-encrypt wins over the environment', async () => {
    const inputs = await readConfigInputs(
      { config: [file], encrypt: flagKey },
      { [CLUSTER_KEY_ENV]: envKey },
    );
    assert.equal(resolveAgentConfig(inputs).server.encrypt, flagKey);
  });

  test('variable is deleted once read', async () => {
    const env: Record<string, string | undefined> = { [CLUSTER_KEY_ENV]: envKey, HOME: '/home/app' };
    await readConfigInputs({ config: [file] }, env);
    assert.equal(CLUSTER_KEY_ENV in env, false);
    assert.equal(env.HOME, '/home/app');
  });

  test('invalid variable is deleted too', async () => {
    const env: Record<string, string | undefined> = { [CLUSTER_KEY_ENV]: 'bm90LWEta2V5' };
    await assert.rejects(
      readConfigInputs({ config: [file] }, env),
      (err: unknown) => err instanceof AgentConfigError && err.field === 'server.encrypt',
    );
    assert.equal(CLUSTER_KEY_ENV in env, false);
  });

  test('file key stays without the variable', async () => {
    const inputs = await readConfigInputs({ config: [file] }, {});
    assert.equal(resolveAgentConfig(inputs).server.encrypt, fileKey);
  });

  test('environment alone satisfies a server', async () => {
    const inputs = await readConfigInputs(
      { server: true, dataDir: join(root, 'env-only') },
      { [CLUSTER_KEY_ENV]: envKey },
    );
    const config = resolveAgentConfig(inputs);
    assert.equal(config.server.enabled, true);
    assert.equal(config.server.encrypt, envKey);
  });
});

describe('signet agent with a bad SIGNET_ENCRYPT', () => {
  test('exits 1 naming the variable, not the key', async () => {
    const root = await mkdtemp(join(tmpdir(), 'signet-agent-env-cli-'));
    try {
      const bad = 'bm90LWEtY2x1c3Rlci1rZXk=';
      const failure = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'agent', '-server', '-data-dir', join(root, 'data')],
        { env: { ...process.env, [CLUSTER_KEY_ENV]: bad } },
      ).then(
        () => assert.fail('the agent started with a malformed SIGNET_ENCRYPT'),
        (err: { code: number; stderr: string }) => err,
      );
      assert.equal(failure.code, 1);
      assert.ok(failure.stderr.includes(`invalid ${CLUSTER_KEY_ENV}`), failure.stderr);
      assert.ok(!failure.stderr.includes(bad), failure.stderr);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
