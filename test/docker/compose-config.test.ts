import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { AgentConfigError, parseAgentConfig, resolveAgentConfig } from '../../src/server/agent-config.js';
import { agentEnvInput, CLUSTER_KEY_ENV } from '../../src/server/agent-env.js';
import {
  type ComposeConfig,
  composeUnavailable,
  dockerfileEntrypoint,
  EXAMPLE_ENV_FILE,
  loadComposeConfig,
  parseVolume,
  REPO_ROOT,
} from './support/compose-model.js';

const SERVERS = ['s1', 's2', 's3'];
const CLIENTS = ['c1', 'c2'];
const DATA_DIR = '/opt/signet/data';

async function readRepoFile(path: string): Promise<string> {
  return readFile(join(REPO_ROOT, path), 'utf8');
}

/** Returns whether a path is sent to the build context under `.dockerignore` (last match wins). */
function inBuildContext(rules: readonly string[], path: string): boolean {
  let included = true;
  for (const rule of rules) {
    const negated = rule.startsWith('!');
    const pattern = (negated ? rule.slice(1) : rule).replace(/\/$/, '');
    if (pattern === '*' || path === pattern || path.startsWith(`${pattern}/`)) included = negated;
  }
  return included;
}

describe('Dockerfile and .dockerignore', () => {
  test('entrypoint runs the compiled CLI', async () => {
    assert.deepEqual(await dockerfileEntrypoint(), ['node', '/opt/signet/dist/src/cli/main.js']);
  });

  test('runtime stage is slim, unprivileged, with a data volume', async () => {
    const lines = (await readRepoFile('Dockerfile')).split('\n');
    const from = lines.filter((line) => line.startsWith('FROM '));
    assert.deepEqual(from, ['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim']);
    const runtime = lines.slice(lines.indexOf('FROM node:20-bookworm-slim'));
    assert.ok(runtime.includes('USER node'));
    assert.ok(runtime.includes(`VOLUME ["${DATA_DIR}"]`));
    assert.ok(runtime.includes('EXPOSE 4646 4647'));
    assert.ok(runtime.some((line) => line.startsWith('RUN npm ci --omit=dev ')));
    // A named volume starts with the owner and mode of the folder it is mounted on.
    assert.ok(runtime.some((line) => line.trim() === `&& chmod 700 ${DATA_DIR}`));
  });

  test('build context leaves out the cluster key and local builds', async () => {
    const rules = (await readRepoFile('.dockerignore'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const path of ['docker/cluster.env', 'node_modules', 'dist', '.git', 'test/docker']) {
      assert.equal(inBuildContext(rules, path), false, `${path} is in the build context`);
    }
    for (const path of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/cli/main.ts']) {
      assert.equal(inBuildContext(rules, path), true, `${path} is missing from the build context`);
    }
  });
});

describe('docker/ agent configuration files', () => {
  const key = generateClusterKey();

  test('server.hcl makes a valid server for each service', async () => {
    const input = parseAgentConfig(await readRepoFile('docker/server.hcl'), 'docker/server.hcl');
    for (const name of SERVERS) {
      const config = resolveAgentConfig([input, agentEnvInput({ [CLUSTER_KEY_ENV]: key }), { name }]);
      assert.equal(config.server.enabled, true);
      assert.equal(config.server.bootstrapExpect, SERVERS.length);
      assert.equal(config.bindAddr, '0.0.0.0');
      assert.equal(config.dataDir, DATA_DIR);
      assert.deepEqual(config.server.retryJoin, SERVERS);
      assert.equal(config.acl.enabled, true);
    }
  });

  test('server.hcl holds no key, so a server needs SIGNET_ENCRYPT', async () => {
    const input = parseAgentConfig(await readRepoFile('docker/server.hcl'), 'docker/server.hcl');
    assert.throws(
      () => resolveAgentConfig([input, { name: 's1' }]),
      (err: unknown) => err instanceof AgentConfigError && err.field === 'server.encrypt',
    );
  });

  test('client.hcl dials the servers by service name', async () => {
    const input = parseAgentConfig(await readRepoFile('docker/client.hcl'), 'docker/client.hcl');
    const config = resolveAgentConfig([input, { name: 'c1' }]);
    assert.equal(config.client.enabled, true);
    assert.equal(config.server.enabled, false);
    assert.equal(config.dataDir, DATA_DIR);
    assert.deepEqual(
      config.client.servers,
      SERVERS.map((name) => `${name}:4647`),
    );
    assert.equal(config.plugins.raw_exec.enabled, true);
  });

  test('example env file has an empty key that servers reject', async () => {
    const lines = (await readFile(EXAMPLE_ENV_FILE, 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    assert.deepEqual(lines, [`${CLUSTER_KEY_ENV}=`]);
    assert.throws(
      () => agentEnvInput({ [CLUSTER_KEY_ENV]: '' }),
      (err: unknown) => err instanceof AgentConfigError && err.field === 'server.encrypt',
    );
  });
});

describe('docker-compose.yml as docker-compose resolves it', async () => {
  const unavailable = await composeUnavailable();
  const root = await mkdtemp(join(tmpdir(), 'signet-compose-config-'));
  after(() => rm(root, { recursive: true, force: true }));
  const key = generateClusterKey();
  let compose: ComposeConfig | null = null;
  if (unavailable === null) {
    const envFile = join(root, 'cluster.env');
    await writeFile(envFile, `${CLUSTER_KEY_ENV}=${key}\n`, { mode: 0o600 });
    compose = await loadComposeConfig(envFile);
  }
  const config = (): ComposeConfig => compose!;
  const declared = (): string[] => Object.keys(config().volumes ?? {});

  test('example env file validates', { skip: unavailable ?? false }, async () => {
    const example = await loadComposeConfig(EXAMPLE_ENV_FILE);
    assert.equal(example.services.s1?.environment?.[CLUSTER_KEY_ENV], '');
  });

  test('three servers and two clients', { skip: unavailable ?? false }, () => {
    assert.deepEqual(Object.keys(config().services).sort(), [...CLIENTS, ...SERVERS].sort());
    const images = new Set(Object.values(config().services).map((service) => service.image));
    assert.deepEqual([...images], ['signet:latest']);
    for (const service of Object.values(config().services)) {
      assert.equal(service.build?.context, REPO_ROOT);
    }
  });

  test('servers share the key from the env file', { skip: unavailable ?? false }, () => {
    for (const name of SERVERS) {
      assert.equal(config().services[name]?.environment?.[CLUSTER_KEY_ENV], key, name);
    }
    for (const name of CLIENTS) {
      assert.equal(config().services[name]?.environment?.[CLUSTER_KEY_ENV], undefined, name);
    }
  });

  test('each agent runs its config file under its service name', { skip: unavailable ?? false }, () => {
    for (const [names, file] of [
      [SERVERS, 'server.hcl'],
      [CLIENTS, 'client.hcl'],
    ] as const) {
      for (const name of names) {
        const service = config().services[name]!;
        assert.deepEqual(service.command, ['agent', '-config', `/opt/signet/config/${file}`, '-node', name]);
        const mounts = (service.volumes ?? []).map((volume) => parseVolume(volume, declared()));
        const configMount = mounts.find((mount) => mount.target === `/opt/signet/config/${file}`);
        assert.equal(configMount?.source, join(REPO_ROOT, 'docker', file), name);
        assert.equal(configMount?.readOnly, true, name);
      }
    }
  });

  test('every agent has its own data volume', { skip: unavailable ?? false }, () => {
    const owners = new Map<string, string>();
    for (const [name, service] of Object.entries(config().services)) {
      const mounts = (service.volumes ?? []).map((volume) => parseVolume(volume, declared()));
      const data = mounts.filter((mount) => mount.target === DATA_DIR);
      assert.equal(data.length, 1, `${name} mounts ${data.length} volumes at ${DATA_DIR}`);
      assert.equal(data[0]!.named, true, `${name} data is not a named volume`);
      assert.equal(data[0]!.readOnly, false);
      assert.equal(owners.get(data[0]!.source), undefined, `${name} shares ${data[0]!.source}`);
      owners.set(data[0]!.source, name);
    }
  });

  test('servers check /v1/agent/health', { skip: unavailable ?? false }, () => {
    for (const name of SERVERS) {
      const check = config().services[name]?.healthcheck?.test ?? [];
      assert.equal(check[0], 'CMD', name);
      assert.equal(check[1], 'node', name);
      assert.ok(check.join(' ').includes('http://127.0.0.1:4646/v1/agent/health'), name);
    }
  });

  test('clients wait for healthy servers', { skip: unavailable ?? false }, () => {
    for (const name of CLIENTS) {
      const service = config().services[name]!;
      assert.deepEqual(
        Object.keys(service.depends_on ?? {}).sort(),
        SERVERS,
        `${name} does not wait for every server`,
      );
      for (const server of SERVERS) {
        assert.equal(service.depends_on?.[server]?.condition, 'service_healthy', `${name} on ${server}`);
      }
      assert.equal(service.init, true, `${name} has no init process to reap orphaned tasks`);
    }
  });

  test('only s1 publishes the HTTP API, on loopback', { skip: unavailable ?? false }, () => {
    const published = Object.entries(config().services).filter(([, service]) => service.ports !== undefined);
    assert.deepEqual(
      published.map(([name]) => name),
      ['s1'],
    );
    assert.deepEqual(config().services.s1?.ports, ['127.0.0.1:4646:4646/tcp']);
  });
});
