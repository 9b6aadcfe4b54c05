import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import { CLUSTER_KEY_ENV } from '../../src/server/agent-env.js';
import {
  composeUnavailable,
  dockerfileEntrypoint,
  type HostPlan,
  type HostReport,
  loadComposeConfig,
  type PhaseReport,
  planServices,
  REPO_ROOT,
} from './support/compose-model.js';
import { IMAGE_APP_DIR, IMAGE_UID } from './support/container-host.js';

// Docker cannot run here, so this test runs the services of docker-compose.yml as Docker would run
// them. Each service gets its own network, UTS and mount namespaces on a bridge, at its own address.
// Its volumes are bound where the compose file mounts them, and it runs its command after the
// Dockerfile's ENTRYPOINT, with the environment from the env file, as the image's user. Names
// resolve through /etc/hosts in place of the compose network's DNS. The checks cover what the
// compose file relies on: servers found by service name, the address each server announces when
// bound to 0.0.0.0, the healthcheck, clients that wait for it, and a cluster that survives new
// addresses. The one substitution: the sources run through tsx in place of the compiled dist/.

const run = promisify(execFile);
const SERVERS = ['s1', 's2', 's3'];
const CLIENTS = ['c1', 'c2'];
const RUN_TIMEOUT_MS = 300_000;

/** Returns why namespaces cannot be made here, or null. They need root (CAP_SYS_ADMIN, CAP_NET_ADMIN). */
async function namespacesUnavailable(): Promise<string | null> {
  for (const tool of ['unshare', 'nsenter', 'setpriv', 'ip']) {
    try {
      await run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  try {
    await run('unshare', [
      '--net',
      '--mount',
      '--pid',
      '--fork',
      '--mount-proc',
      'ip',
      'link',
      'add',
      'probe0',
      'type',
      'bridge',
    ]);
  } catch {
    return 'cannot create network, mount and PID namespaces with a bridge (needs root)';
  }
  return null;
}

/** The Dockerfile's entrypoint with the compiled CLI replaced by its sources run through tsx. */
async function sourceEntrypoint(): Promise<string[]> {
  const entrypoint = await dockerfileEntrypoint();
  const compiled = `${IMAGE_APP_DIR}/dist/src/cli/main.js`;
  const index = entrypoint.indexOf(compiled);
  assert.notEqual(index, -1, `the Dockerfile's ENTRYPOINT no longer runs ${compiled}; update this test`);
  return [
    ...entrypoint.slice(0, index),
    '--import',
    'tsx',
    `${IMAGE_APP_DIR}/src/cli/main.ts`,
    ...entrypoint.slice(index + 1),
  ];
}

function phase(report: HostReport, index: number): PhaseReport {
  const found = report.phases[index];
  assert.ok(
    found !== undefined,
    `phase ${index + 1} did not complete: ${report.error}\n${JSON.stringify(report.logTails, null, 2)}`,
  );
  return found;
}

describe('docker-compose.yml run in namespaces', async () => {
  const unavailable = (await composeUnavailable()) ?? (await namespacesUnavailable());
  let workDir = '';
  let report: HostReport = { phases: [], error: 'not run', logTails: {} };

  before(async () => {
    if (unavailable !== null) return;
    workDir = await mkdtemp(join(tmpdir(), 'signet-compose-'));
    // Bind mounts give the image's user its own view, but the folder itself must let it through.
    await chmod(workDir, 0o755);
    const envFile = join(workDir, 'cluster.env');
    await writeFile(envFile, `${CLUSTER_KEY_ENV}=${generateClusterKey()}\n`, { mode: 0o600 });
    const compose = await loadComposeConfig(envFile);
    const plan: HostPlan = {
      repoRoot: REPO_ROOT,
      workDir,
      reportFile: join(workDir, 'report.json'),
      services: planServices(compose, await sourceEntrypoint()),
    };
    await writeFile(join(workDir, 'plan.json'), JSON.stringify(plan));

    // --kill-child ends the host process when unshare dies, and with it the whole PID namespace.
    const child = spawn(
      'unshare',
      [
        '--net',
        '--mount',
        '--pid',
        '--fork',
        '--mount-proc',
        '--kill-child',
        '--',
        process.execPath,
        '--import',
        'tsx',
        join(REPO_ROOT, 'test/docker/support/compose-host-main.ts'),
        join(workDir, 'plan.json'),
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exit) => resolve(exit)));
    clearTimeout(timer);
    report = JSON.parse(
      await readFile(plan.reportFile, 'utf8').catch(
        () =>
          `{"phases":[],"error":"the namespace host exited with ${code} and wrote no report","logTails":{}}`,
      ),
    ) as HostReport;
  });
  after(async () => {
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  });

  const skip = unavailable ?? false;

  test('servers pass the healthcheck', { skip }, () => {
    const first = phase(report, 0);
    assert.deepEqual(Object.keys(first.healthyAfterMs).sort(), SERVERS);
  });

  test('servers join by service name at their container addresses', { skip }, () => {
    const first = phase(report, 0);
    const voters = first.raft.filter((server) => server.Voter).map((server) => [server.Node, server.Address]);
    assert.deepEqual(
      voters.sort(),
      SERVERS.map((name) => [name, `${first.addresses[name]}:4647`]),
    );
    assert.equal(first.raft.filter((server) => server.Leader).length, 1);
  });

  test('members are alive at their container addresses', { skip }, () => {
    const first = phase(report, 0);
    for (const name of SERVERS) {
      const member = first.members.find((candidate) => candidate.Name === name);
      assert.equal(member?.Status, 'alive', name);
      assert.equal(member?.Addr, first.addresses[name], name);
      assert.equal(member?.Port, 4647, name);
    }
  });

  test('clients register and run raw_exec tasks as the image user', { skip }, () => {
    const first = phase(report, 0);
    assert.deepEqual(first.nodes.map((node) => node.Name).sort(), CLIENTS);
    assert.equal(first.allocations.length, 2);
    for (const alloc of first.allocations) {
      assert.ok(CLIENTS.includes(alloc.node), alloc.node);
      assert.equal(alloc.uid, String(IMAGE_UID));
    }
  });

  test('recreated servers rejoin at new addresses', { skip }, () => {
    const first = phase(report, 0);
    const second = phase(report, 1);
    for (const name of SERVERS) assert.notEqual(second.addresses[name], first.addresses[name], name);
    const voters = second.raft
      .filter((server) => server.Voter)
      .map((server) => [server.Node, server.Address]);
    assert.deepEqual(
      voters.sort(),
      SERVERS.map((name) => [name, `${second.addresses[name]}:4647`]),
    );
  });

  test('clients follow the recreated servers', { skip }, () => {
    const second = phase(report, 1);
    assert.deepEqual(second.nodes.map((node) => node.Name).sort(), CLIENTS);
    assert.equal(second.allocations.length, 1);
    assert.equal(second.allocations[0]?.uid, String(IMAGE_UID));
  });

  test('host run ends without an error', { skip }, () => {
    assert.equal(report.error, null, `${report.error}\n${JSON.stringify(report.logTails, null, 2)}`);
  });
});
